namespace LlmProxy.RateLimiting;

/// <summary>Where limit state lives: Redis (shared by replicas) or this process's memory.</summary>
public interface ILimitStore
{
    /// <summary>
    /// Decides one request atomically for every rule of the plan: all admit and are counted, or nothing is counted.
    /// Requests cost 1, tokens cost <paramref name="tokens"/>, concurrency takes a lease named <paramref name="leaseId"/>.
    /// Capacities are the limits divided by <paramref name="divisor"/> (fail-open fallback), rounded up.
    /// </summary>
    Task<LimitDecision> AdmitAsync(LimitPlan plan, long tokens, string leaseId, TimeSpan leaseTtl, int divisor);

    /// <summary>
    /// Gives tokens back to buckets (negative: charges more) and releases the lease <paramref name="leaseId"/> in the
    /// concurrency caps <paramref name="leases"/>, in one call.
    /// </summary>
    Task SettleAsync(IReadOnlyList<BucketRefund> refunds, IReadOnlyList<LimitRule> leases, string leaseId);
}
