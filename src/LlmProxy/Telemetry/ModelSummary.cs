namespace LlmProxy.Telemetry;

/// <summary>One model's figures.</summary>
public sealed record ModelSummary(TimingSummary Timing, TokenSummary Tokens, decimal CostUsd, long CostUnknownRequests, long Requests, SortedDictionary<string, long> Errors);
