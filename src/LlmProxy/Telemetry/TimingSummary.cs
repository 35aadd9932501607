namespace LlmProxy.Telemetry;

/// <summary>Latency figures; a part is null when nothing was measured (no streams, for example).</summary>
public sealed record TimingSummary(LatencyStats? Total, LatencyStats? TimeToFirstToken, LatencyStats? TimePerToken);
