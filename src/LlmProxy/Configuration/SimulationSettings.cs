namespace LlmProxy.Configuration;

/// <summary>Behaviour of a <c>simulated</c> provider.</summary>
public sealed record SimulationSettings
{
    /// <summary>Delay before the first token (and before a non-streamed answer).</summary>
    public int TtftMs { get; init; } = 150;

    /// <summary>Delay between streamed tokens.</summary>
    public int InterTokenMs { get; init; } = 20;

    /// <summary>Share of requests answered with an injected error, 0 to 1.</summary>
    public double ErrorRate { get; init; }

    /// <summary>Status of injected errors.</summary>
    public int ErrorStatus { get; init; } = 503;

    /// <summary>Retry-After (seconds) sent with injected errors, if set.</summary>
    public int? RetryAfterSeconds { get; init; }

    /// <summary>Completion tokens generated when the request sets no max_tokens.</summary>
    public int DefaultMaxTokens { get; init; } = 24;

    /// <summary>Length of embedding vectors.</summary>
    public int EmbeddingDimensions { get; init; } = 256;
}
