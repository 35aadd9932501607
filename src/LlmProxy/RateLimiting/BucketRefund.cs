namespace LlmProxy.RateLimiting;

/// <summary>Tokens given back to (or, when negative, charged to) one token bucket at settlement.</summary>
/// <param name="Rule">The token limit.</param>
/// <param name="Divisor">The divisor its capacity was admitted with (replicas while failing open, else 1).</param>
/// <param name="Tokens">Reserved minus used.</param>
public readonly record struct BucketRefund(LimitRule Rule, int Divisor, long Tokens);
