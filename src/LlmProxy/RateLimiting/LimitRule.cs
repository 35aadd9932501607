namespace LlmProxy.RateLimiting;

/// <summary>
/// One limit of one scope, compiled from the config: what it counts, how much per window, and the Redis key that
/// holds its state. The key carries the scope's configured name (key id, team, model), never an API key.
/// </summary>
public sealed class LimitRule
{
    /// <summary>Creates a rule.</summary>
    public LimitRule(LimitKind kind, string scope, string scopeName, long limit, TimeSpan window, string storeKey)
    {
        Kind = kind;
        Scope = scope;
        ScopeName = scopeName;
        Limit = limit;
        Window = window;
        StoreKey = storeKey;
        LimitText = limit.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var tag = storeKey.StartsWith('{') ? storeKey.IndexOf('}', StringComparison.Ordinal) : -1;
        HashTag = tag < 0 ? "" : storeKey[..(tag + 1)];
        BucketsKey = HashTag + ":buckets";
        BucketField = tag < 0 ? storeKey : storeKey[(tag + 1)..].TrimStart(':');
    }

    /// <summary>What the rule counts.</summary>
    public LimitKind Kind { get; }

    /// <summary><c>key</c>, <c>team</c>, <c>model</c> or <c>key_model</c> (a metric label).</summary>
    public string Scope { get; }

    /// <summary>The scope's configured name, for messages (<c>alpha</c>, <c>search</c>, <c>gpt-4o</c>, <c>alpha/gpt-4o</c>).</summary>
    public string ScopeName { get; }

    /// <summary>Requests or tokens per window, or requests in flight.</summary>
    public long Limit { get; }

    /// <summary>The refill window; zero for concurrency.</summary>
    public TimeSpan Window { get; }

    /// <summary>The limit as a header value (<c>x-ratelimit-limit-*</c>), formatted once.</summary>
    public string LimitText { get; }

    /// <summary>Where the state lives: the in-memory key, and in Redis a concurrency cap's key (a bucket's names it).</summary>
    public string StoreKey { get; }

    /// <summary>The <c>{prefix}</c> hash tag the store key starts with (one Redis Cluster slot for a request's keys).</summary>
    public string HashTag { get; }

    /// <summary>The Redis hash holding the buckets of this hash tag (<c>{prefix}:buckets</c>).</summary>
    public string BucketsKey { get; }

    /// <summary>This bucket's field in <see cref="BucketsKey"/>: the store key without its hash tag (<c>key:alpha:requests:minute</c>).</summary>
    public string BucketField { get; }

    /// <summary>The window in milliseconds.</summary>
    public long WindowMs => (long)Window.TotalMilliseconds;

    /// <summary>How OpenAI names the limit in messages, for example <c>requests per min (RPM)</c>.</summary>
    public string Description => (Kind, WindowMs) switch
    {
        (LimitKind.Concurrency, _) => "concurrent requests",
        (LimitKind.Requests, 1_000) => "requests per second (RPS)",
        (LimitKind.Requests, 60_000) => "requests per min (RPM)",
        (LimitKind.Requests, 3_600_000) => "requests per hour (RPH)",
        (LimitKind.Requests, _) => "requests per day (RPD)",
        (LimitKind.Tokens, 1_000) => "tokens per second (TPS)",
        (LimitKind.Tokens, 60_000) => "tokens per min (TPM)",
        (LimitKind.Tokens, 3_600_000) => "tokens per hour (TPH)",
        _ => "tokens per day (TPD)",
    };
}
