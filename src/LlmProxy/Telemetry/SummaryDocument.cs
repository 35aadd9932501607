namespace LlmProxy.Telemetry;

/// <summary><c>GET /metrics/summary</c>: per-model figures over a sliding window. Times are in milliseconds.</summary>
public sealed record SummaryDocument(int WindowMinutes, LlmSummary Llm);
