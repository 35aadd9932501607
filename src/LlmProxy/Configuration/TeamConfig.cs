namespace LlmProxy.Configuration;

/// <summary>A named group of keys with limits shared by all its keys.</summary>
public sealed record TeamConfig
{
    /// <summary>Limits shared by the team's keys.</summary>
    public LimitsConfig? Limits { get; init; }
}
