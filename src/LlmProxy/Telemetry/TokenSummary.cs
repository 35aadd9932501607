namespace LlmProxy.Telemetry;

/// <summary>Token sums.</summary>
public sealed record TokenSummary(long Input, long Output);
