namespace LlmProxy.Configuration;

/// <summary>What a reload attempt did.</summary>
public enum ConfigReloadStatus
{
    /// <summary>A new snapshot is in force.</summary>
    Applied,

    /// <summary>The file's content had not changed.</summary>
    Unchanged,

    /// <summary>The file is invalid; the last good snapshot stays in force.</summary>
    Rejected,
}
