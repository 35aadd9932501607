namespace LlmProxy.Telemetry;

/// <summary>p50, p90, p95, p99 in milliseconds.</summary>
public sealed record Percentiles(double P50, double P90, double P95, double P99);
