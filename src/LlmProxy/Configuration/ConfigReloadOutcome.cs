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

/// <summary>The outcome of a reload attempt, with the errors of a rejected one.</summary>
public sealed record ConfigReloadOutcome(ConfigReloadStatus Status, IReadOnlyList<string> Errors);
