namespace LlmProxy.RateLimiting;

/// <summary>
/// Limits in this process's memory: the default without Redis (one replica), and the fail-open fallback while Redis
/// is unreachable. Same buckets (amount in use, drained at the limit per window) and leases as the Redis scripts,
/// decided under one lock.
/// </summary>
public sealed class MemoryLimitStore : ILimitStore
{
    private readonly TimeProvider _time;
    private readonly Lock _gate = new();
    private readonly Dictionary<string, Bucket> _buckets = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Dictionary<string, long>> _leases = new(StringComparer.Ordinal);
    private long _operations;

    /// <summary>Creates an empty store.</summary>
    public MemoryLimitStore(TimeProvider time) => _time = time;

    /// <inheritdoc/>
    public Task<LimitDecision> AdmitAsync(LimitPlan plan, long tokens, string leaseId, TimeSpan leaseTtl, int divisor)
        => Task.FromResult(Admit(plan, tokens, leaseId, leaseTtl, divisor));

    /// <inheritdoc/>
    public Task SettleAsync(IReadOnlyList<BucketRefund> refunds, IReadOnlyList<LimitRule> leases, string leaseId)
    {
        var now = _time.GetUtcNow().ToUnixTimeMilliseconds();
        lock (_gate)
        {
            foreach (var refund in refunds)
            {
                var rule = refund.Rule;
                var used = Used(rule.StoreKey, Capacity(rule, refund.Divisor), rule.WindowMs, now);
                _buckets[rule.StoreKey] = new Bucket(Math.Max(0, used - refund.Tokens), now);
            }

            foreach (var rule in leases)
            {
                if (_leases.TryGetValue(rule.StoreKey, out var held))
                {
                    held.Remove(leaseId);
                }
            }
        }

        return Task.CompletedTask;
    }

    private LimitDecision Admit(LimitPlan plan, long tokens, string leaseId, TimeSpan leaseTtl, int divisor)
    {
        var now = _time.GetUtcNow().ToUnixTimeMilliseconds();
        lock (_gate)
        {
            if (++_operations % 4096 == 0)
            {
                Sweep(now);
            }

            // What each bucket holds without this request; the first that cannot take it refuses.
            var inUse = new double[plan.Buckets];
            var refused = -1;
            var used = 0L;
            var retryAfterMs = 0L;
            for (var i = 0; i < plan.Buckets; i++)
            {
                var rule = plan.Rules[i];
                var capacity = Capacity(rule, divisor);
                inUse[i] = Used(rule.StoreKey, capacity, rule.WindowMs, now);
                var cost = rule.Kind == LimitKind.Tokens ? tokens : 1;
                if (refused < 0 && inUse[i] + cost > capacity)
                {
                    (refused, used, retryAfterMs) = (i, (long)Math.Ceiling(inUse[i]), (long)Math.Ceiling((inUse[i] + cost - capacity) * rule.WindowMs / capacity));
                }
            }

            for (var i = plan.Buckets; refused < 0 && i < plan.Rules.Length; i++)
            {
                var rule = plan.Rules[i];
                var count = Leases(rule.StoreKey, now).Count;
                if (count >= Capacity(rule, divisor))
                {
                    (refused, used) = (i, count);
                }
            }

            var remaining = new long[plan.Buckets];
            var reset = new long[plan.Buckets];
            if (refused >= 0)
            {
                for (var i = 0; i < plan.Buckets; i++)
                {
                    var rule = plan.Rules[i];
                    var capacity = Capacity(rule, divisor);
                    remaining[i] = (long)Math.Floor(capacity - inUse[i]);
                    reset[i] = (long)Math.Ceiling(inUse[i] * rule.WindowMs / capacity);
                }

                return LimitDecision.Reject(refused, used, retryAfterMs, remaining, reset);
            }

            for (var i = 0; i < plan.Buckets; i++)
            {
                var rule = plan.Rules[i];
                var capacity = Capacity(rule, divisor);
                inUse[i] += rule.Kind == LimitKind.Tokens ? tokens : 1;
                _buckets[rule.StoreKey] = new Bucket(inUse[i], now);
                remaining[i] = (long)Math.Floor(capacity - inUse[i]);
                reset[i] = (long)Math.Ceiling(inUse[i] * rule.WindowMs / capacity);
            }

            for (var i = plan.Buckets; i < plan.Rules.Length; i++)
            {
                Leases(plan.Rules[i].StoreKey, now)[leaseId] = now + (long)leaseTtl.TotalMilliseconds;
            }

            return LimitDecision.Admit(remaining, reset);
        }
    }

    /// <summary>The limit this replica enforces: the whole limit, or its share while failing open.</summary>
    internal static double Capacity(LimitRule rule, int divisor) => divisor <= 1 ? rule.Limit : Math.Ceiling((double)rule.Limit / divisor);

    // What is in use now: the stored amount drained at capacity per window since it was stored. Keeping use rather
    // than what is left lets a changed limit apply at once.
    private double Used(string key, double capacity, long windowMs, long now)
    {
        if (!_buckets.TryGetValue(key, out var bucket))
        {
            return 0;
        }

        var elapsed = now - bucket.At;
        return elapsed > 0 ? Math.Max(0, bucket.Used - (elapsed * capacity / windowMs)) : bucket.Used;
    }

    private Dictionary<string, long> Leases(string key, long now)
    {
        if (!_leases.TryGetValue(key, out var leases))
        {
            leases = new Dictionary<string, long>(StringComparer.Ordinal);
            _leases[key] = leases;
        }

        foreach (var (id, expiry) in leases)
        {
            if (expiry <= now)
            {
                leases.Remove(id);
            }
        }

        return leases;
    }

    // Full buckets hold no information: drop them so the table does not grow with every key ever seen.
    private void Sweep(long now)
    {
        foreach (var (key, bucket) in _buckets)
        {
            if (now - bucket.At > TimeSpan.FromDays(1).TotalMilliseconds)
            {
                _buckets.Remove(key);
            }
        }
    }

    private readonly record struct Bucket(double Used, long At);
}
