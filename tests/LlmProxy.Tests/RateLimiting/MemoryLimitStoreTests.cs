using LlmProxy.RateLimiting;
using Microsoft.Extensions.Time.Testing;

namespace LlmProxy.Tests.RateLimiting;

public sealed class MemoryLimitStoreTests
{
    private readonly FakeTimeProvider _time = new(DateTimeOffset.UtcNow);

    private static LimitRule Rule(LimitKind kind, long limit, string key, double windowSeconds = 60)
        => new(kind, "key", "alpha", limit, kind == LimitKind.Concurrency ? TimeSpan.Zero : TimeSpan.FromSeconds(windowSeconds), key);

    [Fact]
    public async Task Admit_TokensThenSettle_ReserveRefundAndChargeArithmetic()
    {
        var store = new MemoryLimitStore(_time);
        var plan = new LimitPlan([Rule(LimitKind.Tokens, 1000, "t")]);

        var first = await store.AdmitAsync(plan, 300, "a", TimeSpan.FromMinutes(1), 1);
        Assert.Equal(700, first.Remaining[0]);
        await store.SettleAsync([new BucketRefund(plan.Rules[0], 1, 300 - 120)], [], "a");
        var second = await store.AdmitAsync(plan, 300, "b", TimeSpan.FromMinutes(1), 1);
        Assert.Equal(1000 - 120 - 300, second.Remaining[0]);
        // Used 400 where 300 were reserved: 100 more are charged.
        await store.SettleAsync([new BucketRefund(plan.Rules[0], 1, 300 - 400)], [], "b");
        var third = await store.AdmitAsync(plan, 1, "c", TimeSpan.FromMinutes(1), 1);
        Assert.Equal(1000 - 120 - 400 - 1, third.Remaining[0]);
    }

    [Fact]
    public async Task Admit_OneRuleRefuses_NothingCountedAnywhere()
    {
        var store = new MemoryLimitStore(_time);
        var plan = new LimitPlan([Rule(LimitKind.Requests, 10, "r"), Rule(LimitKind.Tokens, 100, "t"), Rule(LimitKind.Concurrency, 5, "c")]);

        var refused = await store.AdmitAsync(plan, 150, "a", TimeSpan.FromMinutes(1), 1);
        var admitted = await store.AdmitAsync(plan, 100, "b", TimeSpan.FromMinutes(1), 1);

        Assert.False(refused.Admitted);
        Assert.Equal(1, refused.RejectedRule);
        Assert.True(admitted.Admitted);
        Assert.Equal([9, 0], admitted.Remaining);
    }

    [Fact]
    public async Task Admit_BucketRefuses_ReportsEveryBucketAsItStandsAndCountsNothing()
    {
        var store = new MemoryLimitStore(_time);
        var plan = new LimitPlan([Rule(LimitKind.Requests, 10, "r"), Rule(LimitKind.Tokens, 100, "t")]);
        Assert.True((await store.AdmitAsync(plan, 60, "a", TimeSpan.FromMinutes(1), 1)).Admitted);

        var refused = await store.AdmitAsync(plan, 50, "b", TimeSpan.FromMinutes(1), 1);

        Assert.False(refused.Admitted);
        Assert.Equal(1, refused.RejectedRule);
        // Without the refused request: 9 requests and 40 tokens left, full again in 6 s and 36 s.
        Assert.Equal([9, 40], refused.Remaining);
        Assert.Equal([6_000, 36_000], refused.ResetMs);
        var admitted = await store.AdmitAsync(plan, 40, "c", TimeSpan.FromMinutes(1), 1);
        Assert.Equal([8, 0], admitted.Remaining);
    }

    [Fact]
    public async Task Admit_ConcurrencyRefuses_ReportsTheBucketsUncharged()
    {
        var store = new MemoryLimitStore(_time);
        var plan = new LimitPlan([Rule(LimitKind.Requests, 10, "r"), Rule(LimitKind.Concurrency, 1, "c")]);
        Assert.True((await store.AdmitAsync(plan, 0, "a", TimeSpan.FromMinutes(1), 1)).Admitted);

        var refused = await store.AdmitAsync(plan, 0, "b", TimeSpan.FromMinutes(1), 1);

        Assert.Equal(1, refused.RejectedRule);
        Assert.Equal([9], refused.Remaining);
        Assert.Equal([6_000], refused.ResetMs);
    }

    [Fact]
    public async Task Admit_Empty_RetryAfterFromTheRefillRate()
    {
        var store = new MemoryLimitStore(_time);
        var plan = new LimitPlan([Rule(LimitKind.Requests, 60, "r")]);
        for (var i = 0; i < 60; i++)
        {
            Assert.True((await store.AdmitAsync(plan, 0, "x", TimeSpan.FromMinutes(1), 1)).Admitted);
        }

        var refused = await store.AdmitAsync(plan, 0, "x", TimeSpan.FromMinutes(1), 1);
        Assert.Equal(1000, refused.RetryAfterMs);
        Assert.Equal(60, refused.Used);

        _time.Advance(TimeSpan.FromMilliseconds(999));
        Assert.False((await store.AdmitAsync(plan, 0, "x", TimeSpan.FromMinutes(1), 1)).Admitted);
        _time.Advance(TimeSpan.FromMilliseconds(1));
        var again = await store.AdmitAsync(plan, 0, "x", TimeSpan.FromMinutes(1), 1);
        Assert.True(again.Admitted);
        Assert.Equal(60_000, again.ResetMs[0]);
    }

    [Fact]
    public async Task Admit_Concurrency_LeaseHeldUntilSettledOrExpired()
    {
        var store = new MemoryLimitStore(_time);
        var plan = new LimitPlan([Rule(LimitKind.Concurrency, 1, "c")]);

        Assert.True((await store.AdmitAsync(plan, 0, "a", TimeSpan.FromSeconds(30), 1)).Admitted);
        Assert.False((await store.AdmitAsync(plan, 0, "b", TimeSpan.FromSeconds(30), 1)).Admitted);
        await store.SettleAsync([], plan.Rules, "a");
        Assert.True((await store.AdmitAsync(plan, 0, "b", TimeSpan.FromSeconds(30), 1)).Admitted);
        // A lease whose holder vanished (a crashed replica) expires.
        _time.Advance(TimeSpan.FromSeconds(30));
        Assert.True((await store.AdmitAsync(plan, 0, "c", TimeSpan.FromSeconds(30), 1)).Admitted);
    }

    [Fact]
    public async Task Admit_Divisor_EnforcesTheReplicasShare()
    {
        var store = new MemoryLimitStore(_time);
        var plan = new LimitPlan([Rule(LimitKind.Requests, 10, "r")]);

        var admitted = 0;
        for (var i = 0; i < 10; i++)
        {
            admitted += (await store.AdmitAsync(plan, 0, "x", TimeSpan.FromMinutes(1), 3)).Admitted ? 1 : 0;
        }

        Assert.Equal(4, admitted);
    }
}
