namespace LlmProxy.Telemetry;

/// <summary>The models part of the summary.</summary>
public sealed record LlmSummary(SortedDictionary<string, ModelSummary> Models);
