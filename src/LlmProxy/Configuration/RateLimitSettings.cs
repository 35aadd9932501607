namespace LlmProxy.Configuration;

/// <summary>How limits are counted and reserved.</summary>
public sealed record RateLimitSettings
{
    /// <summary>Output tokens reserved for a request that sets no <c>max_completion_tokens</c>/<c>max_tokens</c>.</summary>
    public int DefaultMaxTokens { get; init; } = 4096;

    /// <summary>How much each token type counts against token limits.</summary>
    public TokenWeights TokenWeights { get; init; } = new();

    /// <summary>
    /// Token refunds are summed and settled together this often, in milliseconds (0: each request settles at once).
    /// Requests with a concurrency limit always settle at once.
    /// </summary>
    public int SettleIntervalMs { get; init; } = 100;
}
