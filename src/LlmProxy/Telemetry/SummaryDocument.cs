using System.Text.Json.Serialization;

namespace LlmProxy.Telemetry;

/// <summary><c>GET /metrics/summary</c>: per-model figures over a sliding window. Times are in milliseconds.</summary>
public sealed record SummaryDocument(int WindowMinutes, LlmSummary Llm);

/// <summary>The models part of the summary.</summary>
public sealed record LlmSummary(SortedDictionary<string, ModelSummary> Models);

/// <summary>One model's figures.</summary>
public sealed record ModelSummary(TimingSummary Timing, TokenSummary Tokens, decimal CostUsd, long CostUnknownRequests, long Requests, SortedDictionary<string, long> Errors);

/// <summary>Latency figures; a part is null when nothing was measured (no streams, for example).</summary>
public sealed record TimingSummary(LatencyStats? Total, LatencyStats? TimeToFirstToken, LatencyStats? TimePerToken);

/// <summary>Average and percentiles, in milliseconds.</summary>
public sealed record LatencyStats(double Average, Percentiles Percentiles);

/// <summary>p50, p90, p95, p99 in milliseconds.</summary>
public sealed record Percentiles(double P50, double P90, double P95, double P99);

/// <summary>Token sums.</summary>
public sealed record TokenSummary(long Input, long Output);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, DefaultIgnoreCondition = JsonIgnoreCondition.Never)]
[JsonSerializable(typeof(SummaryDocument))]
internal sealed partial class SummaryJson : JsonSerializerContext;
