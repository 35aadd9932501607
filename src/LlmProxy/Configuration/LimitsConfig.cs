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
