namespace LlmProxy.Telemetry;

/// <summary>Average and percentiles, in milliseconds.</summary>
public sealed record LatencyStats(double Average, Percentiles Percentiles);
