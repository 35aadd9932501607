namespace LlmProxy.Configuration;

/// <summary>The outcome of a reload attempt, with the errors of a rejected one.</summary>
public sealed record ConfigReloadOutcome(ConfigReloadStatus Status, IReadOnlyList<string> Errors);
