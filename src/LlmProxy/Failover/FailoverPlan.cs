namespace LlmProxy.Failover;

/// <summary>
/// A model's budget for one client request, as loaded: how many attempts its targets get, how long to wait between
/// them, how long an attempt and the whole request may take, and where to go when its targets are exhausted.
/// </summary>
public sealed record FailoverPlan
{
    /// <summary>No retries, no fallbacks: one attempt.</summary>
    public static readonly FailoverPlan Single = new()
    {
        MaxAttempts = 1,
        Backoff = TimeSpan.Zero,
        MaxBackoff = TimeSpan.Zero,
        Deadline = TimeSpan.FromSeconds(900),
    };

    /// <summary>Attempts on this model's targets, the first included.</summary>
    public required int MaxAttempts { get; init; }

    /// <summary>The first wait before a target is tried again when the provider named none.</summary>
    public required TimeSpan Backoff { get; init; }

    /// <summary>The longest wait between attempts; a longer <c>Retry-After</c> makes the loop move on.</summary>
    public required TimeSpan MaxBackoff { get; init; }

    /// <summary>Time allowed for response headers, when shorter than the idle timeout.</summary>
    public TimeSpan? FirstByteTimeout { get; init; }

    /// <summary>The shortest first-byte timeout the model's providers set (each applies to its own targets when the model sets none).</summary>
    public TimeSpan? ShortestProviderFirstByteTimeout { get; init; }

    /// <summary>Time allowed for a stream's first text (from the attempt's start); a late one fails the attempt over.</summary>
    public TimeSpan? FirstTokenTimeout { get; init; }

    /// <summary>Time allowed for the whole client request (attempts, waits and fallbacks).</summary>
    public required TimeSpan Deadline { get; init; }

    /// <summary>Public names of the models tried in order when every target of this one failed.</summary>
    public string[] Fallbacks { get; init; } = [];

    /// <summary>Public names of the models tried in order when the prompt is too long for this one.</summary>
    public string[] ContextWindowFallbacks { get; init; } = [];

    /// <summary>When this model's targets are taken out of rotation, and for how long.</summary>
    public HealthPolicy Health { get; init; } = HealthPolicy.Default;

    /// <summary>True when a request to this model can need more than one attempt.</summary>
    public bool MayRetry => MaxAttempts > 1 || Fallbacks.Length > 0 || ContextWindowFallbacks.Length > 0;
}
