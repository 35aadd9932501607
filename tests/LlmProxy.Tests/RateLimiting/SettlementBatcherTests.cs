using LlmProxy.RateLimiting;
using Microsoft.Extensions.Time.Testing;

namespace LlmProxy.Tests.RateLimiting;

public sealed class SettlementBatcherTests
{
    private static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(100);
    private readonly FakeTimeProvider _time = new(DateTimeOffset.UtcNow);

    [Fact]
    public async Task Add_ManyRefunds_OneSettlementPerIntervalWithTheirSum()
    {
        var store = new CountingStore(new MemoryLimitStore(_time));
        var rule = new LimitRule(LimitKind.Tokens, "key", "alpha", 1000, TimeSpan.FromDays(1), "t");
        var plan = new LimitPlan([rule]);
        for (var i = 0; i < 5; i++)
        {
            Assert.True((await store.AdmitAsync(plan, 100, "x", TimeSpan.FromMinutes(1), 1)).Admitted);
        }

        using var batcher = new SettlementBatcher(_time, ex => Assert.Fail(ex.Message));
        for (var i = 0; i < 5; i++)
        {
            batcher.Add(store, new BucketRefund(rule, 1, 60), Interval);
        }

        Assert.Equal(0, store.Settlements);
        _time.Advance(Interval);

        Assert.Equal(1, store.Settlements);
        // 5 × 100 reserved, 5 × 60 given back in one call (a day bucket refills 0.001 in 100 ms).
        Assert.Equal(1000 - 500 + 300 - 1, (await store.AdmitAsync(plan, 1, "y", TimeSpan.FromMinutes(1), 1)).Remaining[0]);
        _time.Advance(Interval);
        Assert.Equal(1, store.Settlements);
    }

    private sealed class CountingStore(ILimitStore inner) : ILimitStore
    {
        public int Settlements { get; private set; }

        public Task<LimitDecision> AdmitAsync(LimitPlan plan, long tokens, string leaseId, TimeSpan leaseTtl, int divisor)
            => inner.AdmitAsync(plan, tokens, leaseId, leaseTtl, divisor);

        public Task SettleAsync(IReadOnlyList<BucketRefund> refunds, IReadOnlyList<LimitRule> leases, string leaseId)
        {
            Settlements++;
            return inner.SettleAsync(refunds, leases, leaseId);
        }
    }
}
