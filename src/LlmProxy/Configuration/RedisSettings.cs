namespace LlmProxy.Configuration;

/// <summary>Where limits are kept when several replicas share them.</summary>
public sealed record RedisSettings
{
    /// <summary>
    /// The StackExchange.Redis connection string (for example <c>redis:6379</c>), or a reference to it
    /// (<c>env:NAME</c>, <c>file:/path</c>) when it carries a password. Without it, limits are kept in memory.
    /// </summary>
    public string? Connection { get; init; }

    /// <summary><c>fail-open</c> (default): admit and count locally while Redis is unreachable; <c>fail-closed</c>: answer 503.</summary>
    public RedisFailurePolicy OnFailure { get; init; } = RedisFailurePolicy.FailOpen;

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
