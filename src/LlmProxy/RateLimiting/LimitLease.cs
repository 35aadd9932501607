using LlmProxy.Configuration;
using LlmProxy.Telemetry;

namespace LlmProxy.RateLimiting;

/// <summary>
/// What one admitted request holds: its token reservation and its concurrency leases. Settling gives back the
/// reserved tokens the request did not use (or charges the ones it used beyond them) and releases the leases;
/// a request without usage (a failed upstream call) gives back the whole reservation.
/// </summary>
internal sealed class LimitLease : IUsageSettlement
{
    private readonly RateLimiter _limiter;
    private readonly ILimitStore _store;
    private readonly LimitPlan _plan;
    private readonly string _leaseId;
    private readonly long _reserved;
    private readonly int _divisor;
    private readonly TokenWeights _weights;
    private readonly int _settleIntervalMs;
    private int _settled;

    public LimitLease(RateLimiter limiter, ILimitStore store, LimitPlan plan, string leaseId, long reserved, int divisor, RateLimitSettings settings)
    {
        _limiter = limiter;
        _store = store;
        _plan = plan;
        _leaseId = leaseId;
        _reserved = reserved;
        _divisor = divisor;
        _weights = settings.TokenWeights;
        _settleIntervalMs = settings.SettleIntervalMs;
    }

    /// <inheritdoc/>
    public void Settle(UsageRecord? record)
    {
        if (Interlocked.Exchange(ref _settled, 1) != 0)
        {
            return;
        }

        var used = record?.Usage is { } usage && _plan.HasTokens ? Weighted(usage, _weights) : 0;
        var refund = _plan.HasTokens ? _reserved - used : 0;
        if (refund != 0 || _plan.HasConcurrency)
        {
            _limiter.Settle(_store, _plan, refund, _leaseId, _divisor, _settleIntervalMs);
        }
    }

    /// <summary>Tokens a usage counts against token limits.</summary>
    public static long Weighted(Usage.TokenUsage usage, TokenWeights weights)
    {
        var cached = Math.Min(usage.CachedInput, usage.Input);
        return (long)Math.Ceiling(((usage.Input - cached) * weights.Input) + (cached * weights.CachedInput) + (usage.Output * weights.Output));
    }

    /// <summary>Tokens an estimate reserves.</summary>
    public static long Weighted(TokenEstimator.Estimate estimate, TokenWeights weights)
        => (long)Math.Ceiling((estimate.Prompt * weights.Input) + (estimate.MaxOutput * weights.Output));
}
