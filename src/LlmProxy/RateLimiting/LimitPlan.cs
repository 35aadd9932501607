namespace LlmProxy.RateLimiting;

/// <summary>Every limit that applies to one key on one model: request and token buckets, then concurrency caps.</summary>
public sealed class LimitPlan
{
    /// <summary>No limits: admission is skipped.</summary>
    public static readonly LimitPlan Empty = new([]);

    /// <summary>Creates a plan; the rules are ordered requests, tokens, concurrency.</summary>
    public LimitPlan(LimitRule[] rules)
    {
        Rules = [.. rules.OrderBy(static r => r.Kind)];
        Buckets = Rules.Count(static r => r.Kind != LimitKind.Concurrency);
        TokenRules = [.. Rules.Where(static r => r.Kind == LimitKind.Tokens)];
        ConcurrencyRules = Rules[Buckets..];
        HashTag = Rules.Length == 0 ? "" : Rules[0].HashTag;
    }

    /// <summary>All rules: request buckets, token buckets, concurrency caps.</summary>
    public LimitRule[] Rules { get; }

    /// <summary>How many rules are buckets (requests and tokens); the rest are concurrency caps.</summary>
    public int Buckets { get; }

    /// <summary>The token buckets (settled with the request's usage).</summary>
    public LimitRule[] TokenRules { get; }

    /// <summary>The concurrency caps (their leases are released when the request ends).</summary>
    public LimitRule[] ConcurrencyRules { get; }

    /// <summary>True when a token limit applies (the request's tokens must be estimated).</summary>
    public bool HasTokens => TokenRules.Length > 0;

    /// <summary>True when a concurrency cap applies.</summary>
    public bool HasConcurrency => ConcurrencyRules.Length > 0;

    /// <summary>True when nothing limits the request.</summary>
    public bool IsEmpty => Rules.Length == 0;

    /// <summary>The <c>{prefix}</c> hash tag every key of the plan starts with (one Redis Cluster slot; see <see cref="LimitPlans"/>).</summary>
    public string HashTag { get; }
}
