namespace LlmProxy.Configuration;

/// <summary>How often a model's targets are tried for one client request, and how long to wait between tries.</summary>
public sealed record RetryConfig
{
    /// <summary>Attempts on the model's targets, the first one included (1 turns retries off).</summary>
    public int MaxAttempts { get; init; } = 3;

    /// <summary>The first wait before trying a target again when the provider named none (doubled each time, with jitter).</summary>
    public int BackoffMs { get; init; } = 250;

    /// <summary>The longest wait between attempts (a longer <c>Retry-After</c> moves on instead).</summary>
    public int MaxBackoffMs { get; init; } = 10_000;
}
