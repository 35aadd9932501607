namespace LlmProxy.RateLimiting;

/// <summary>What a limit counts.</summary>
public enum LimitKind
{
    /// <summary>Requests per window (a token bucket of requests).</summary>
    Requests,

    /// <summary>Weighted input + output tokens per window (reserved at admission, settled to actual usage).</summary>
    Tokens,

    /// <summary>Requests in flight at once.</summary>
    Concurrency,
}
