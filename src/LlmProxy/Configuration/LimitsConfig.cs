namespace LlmProxy.Configuration;

/// <summary>
/// Rate limits of one scope (a key, a team, a model, or a key on one model). Every limit given must hold; a
/// request limit counts requests, a token limit counts input + output tokens (weighted by
/// <see cref="RateLimitSettings.TokenWeights"/>), and <see cref="Concurrent"/> caps requests in flight.
/// Request and token limits are token buckets: the full amount is available at once and refills evenly over the
/// window (like OpenAI's own limits).
/// </summary>
public sealed record LimitsConfig
{
    /// <summary>Requests per second.</summary>
    public long? RequestsPerSecond { get; init; }

    /// <summary>Requests per minute.</summary>
    public long? RequestsPerMinute { get; init; }

    /// <summary>Requests per hour.</summary>
    public long? RequestsPerHour { get; init; }

    /// <summary>Requests per day.</summary>
    public long? RequestsPerDay { get; init; }

    /// <summary>Tokens per second.</summary>
    public long? TokensPerSecond { get; init; }

    /// <summary>Tokens per minute.</summary>
    public long? TokensPerMinute { get; init; }

    /// <summary>Tokens per hour.</summary>
    public long? TokensPerHour { get; init; }

    /// <summary>Tokens per day.</summary>
    public long? TokensPerDay { get; init; }

    /// <summary>Requests in flight at once.</summary>
    public int? Concurrent { get; init; }
}

/// <summary>A named group of keys with limits shared by all its keys.</summary>
public sealed record TeamConfig
{
    /// <summary>Limits shared by the team's keys.</summary>
    public LimitsConfig? Limits { get; init; }
}

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

/// <summary>Weights per token type (1 = a token counts as one).</summary>
public sealed record TokenWeights
{
    /// <summary>Weight of an uncached input token.</summary>
    public double Input { get; init; } = 1;

    /// <summary>Weight of a cached input token.</summary>
    public double CachedInput { get; init; } = 1;

    /// <summary>Weight of an output token (reasoning tokens included).</summary>
    public double Output { get; init; } = 1;
}

/// <summary>Where limits are kept when several replicas share them.</summary>
public sealed record RedisSettings
{
    /// <summary>
    /// The StackExchange.Redis connection string (for example <c>redis:6379</c>), or a reference to it
    /// (<c>env:NAME</c>, <c>file:/path</c>) when it carries a password. Without it, limits are kept in memory.
    /// </summary>
    public string? Connection { get; init; }

    /// <summary><c>fail-open</c> (default): admit and count locally while Redis is unreachable; <c>fail-closed</c>: answer 503.</summary>
    public string OnFailure { get; init; } = RedisFailurePolicies.FailOpen;

    /// <summary>
    /// Longest wait, in milliseconds, for a Redis in doubt (the connection being made, a probe of the open circuit).
    /// While Redis answers, a request waits for its reply up to this or 250 ms, whichever is longer.
    /// </summary>
    public int TimeoutMs { get; init; } = 250;

    /// <summary>Replicas sharing the limits: while failing open, each replica enforces limit / replicas on its own.</summary>
    public int Replicas { get; init; } = 1;

    /// <summary>Prefix of every Redis key.</summary>
    public string KeyPrefix { get; init; } = "llmproxy";
}

/// <summary>The values of <see cref="RedisSettings.OnFailure"/>.</summary>
public static class RedisFailurePolicies
{
    /// <summary>Admit, counting locally against limit / replicas.</summary>
    public const string FailOpen = "fail-open";

    /// <summary>Refuse with 503.</summary>
    public const string FailClosed = "fail-closed";
}
