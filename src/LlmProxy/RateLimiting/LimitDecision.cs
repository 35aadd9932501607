namespace LlmProxy.RateLimiting;

/// <summary>
/// What a store decided for one request: the remaining amount and the time until full of every bucket (in plan order),
/// after the request when it was admitted and as they stand without it when it was rejected; and, rejected, which rule
/// refused, how much of it is used, and when the request would fit.
/// </summary>
public sealed class LimitDecision
{
    private LimitDecision(bool admitted, int rejectedRule, long used, long retryAfterMs, long[] remaining, long[] resetMs)
    {
        Admitted = admitted;
        RejectedRule = rejectedRule;
        Used = used;
        RetryAfterMs = retryAfterMs;
        Remaining = remaining;
        ResetMs = resetMs;
    }

    /// <summary>True when every rule admitted the request (and it was counted everywhere).</summary>
    public bool Admitted { get; }

    /// <summary>Index in <see cref="LimitPlan.Rules"/> of the rule that refused; -1 when admitted.</summary>
    public int RejectedRule { get; }

    /// <summary>How much of the refusing rule is in use (requests, tokens, or requests in flight).</summary>
    public long Used { get; }

    /// <summary>When the request would fit, in milliseconds (0 when unknown, for concurrency).</summary>
    public long RetryAfterMs { get; }

    /// <summary>Per bucket (plan order): what is left (after this request when admitted; without it when rejected).</summary>
    public long[] Remaining { get; }

    /// <summary>Per bucket (plan order): milliseconds until the bucket is full again.</summary>
    public long[] ResetMs { get; }

    /// <summary>An admission.</summary>
    public static LimitDecision Admit(long[] remaining, long[] resetMs) => new(true, -1, 0, 0, remaining, resetMs);

    /// <summary>A rejection; nothing was counted, so the buckets are reported as they stand.</summary>
    public static LimitDecision Reject(int rule, long used, long retryAfterMs, long[] remaining, long[] resetMs)
        => new(false, rule, used, retryAfterMs, remaining, resetMs);
}
