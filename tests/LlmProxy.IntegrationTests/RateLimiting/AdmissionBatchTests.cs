using LlmProxy.IntegrationTests.Infrastructure;
using LlmProxy.RateLimiting;
using StackExchange.Redis;

namespace LlmProxy.IntegrationTests.RateLimiting;

/// <summary>
/// Admissions that arrive together go to a real redis-server in shared script calls, and each is still decided on its
/// own, in order, exactly.
/// </summary>
public sealed class AdmissionBatchTests : IAsyncLifetime
{
    private static readonly TimeSpan LeaseTtl = TimeSpan.FromMinutes(1);
    private RedisServer _redis = null!;
    private ConnectionMultiplexer _connection = null!;
    private RedisLimitStore _store = null!;

    public async Task InitializeAsync()
    {
        _redis = await RedisServer.StartAsync();
        _connection = await ConnectionMultiplexer.ConnectAsync(_redis.ConnectionString + ",asyncTimeout=1000,abortConnect=false");
        _store = new RedisLimitStore(_connection.GetDatabase(), new FakeRateLimitClock(new Microsoft.Extensions.Time.Testing.FakeTimeProvider(DateTimeOffset.UtcNow)), new RedisCircuit(TimeProvider.System));
    }

    public async Task DisposeAsync()
    {
        await _connection.DisposeAsync();
        await _redis.DisposeAsync();
    }

    [Fact]
    public async Task AdmitAsync_200AtOnceLimit50_AdmitsExactly50InFewerCallsWithEveryRemainderOnce()
    {
        var plan = new LimitPlan([Rule(LimitKind.Requests, 50, TimeSpan.FromDays(1), "{t}:key:a:requests:day")]);
        var before = await ScriptCallsAsync();

        var decisions = await Task.WhenAll(Enumerable.Range(0, 200).Select(i => _store.AdmitAsync(plan, 0, $"lease-{i}", LeaseTtl, 1)));

        var admitted = decisions.Where(static d => d.Admitted).ToArray();
        Assert.Equal(50, admitted.Length);
        // Each admission saw the ones decided before it in its batch: the remainders after them are 49 down to 0, once each.
        Assert.Equal(Enumerable.Range(0, 50).Select(static r => (long)r).Reverse(), admitted.Select(static d => d.Remaining[0]).OrderDescending());
        Assert.All(decisions.Where(static d => !d.Admitted), static d => Assert.Equal((0, 50L, 0L), (d.RejectedRule, d.Used, d.Remaining[0])));
        Assert.Equal(50, await _redis.BucketUsedAsync("{t}:key:a:requests:day"));
        var calls = await ScriptCallsAsync() - before;
        Assert.InRange(calls, 1, 199);
    }

    [Fact]
    public async Task AdmitAsync_ConcurrencyCapInBatches_HoldsTheCapAndRefusalsCountNothing()
    {
        var requests = Rule(LimitKind.Requests, 1_000, TimeSpan.FromDays(1), "{t}:key:b:requests:day");
        var cap = Rule(LimitKind.Concurrency, 5, TimeSpan.Zero, "{t}:key:b:concurrent");
        var plan = new LimitPlan([requests, cap]);

        var decisions = await Task.WhenAll(Enumerable.Range(0, 40).Select(i => _store.AdmitAsync(plan, 0, $"lease-{i}", LeaseTtl, 1)));

        Assert.Equal(5, decisions.Count(static d => d.Admitted));
        Assert.All(decisions.Where(static d => !d.Admitted), static d => Assert.Equal((1, 5L), (d.RejectedRule, d.Used)));
        Assert.Equal(5, await _redis.Database.SortedSetLengthAsync("{t}:key:b:concurrent"));
        // A request refused by the cap took nothing from the request bucket.
        Assert.Equal(5, await _redis.BucketUsedAsync("{t}:key:b:requests:day"));
    }

    [Fact]
    public async Task AdmitAsync_TwoPlansSharingAKeyInOneBatch_EachRequestCountsOnEveryBucketOfItsPlan()
    {
        var shared = Rule(LimitKind.Tokens, 1_000, TimeSpan.FromDays(1), "{t}:key:c:tokens:day");
        var small = new LimitPlan([shared, Rule(LimitKind.Tokens, 30, TimeSpan.FromDays(1), "{t}:model:m1:tokens:day")]);
        var large = new LimitPlan([shared, Rule(LimitKind.Tokens, 10_000, TimeSpan.FromDays(1), "{t}:model:m2:tokens:day")]);

        var decisions = await Task.WhenAll(Enumerable.Range(0, 60).Select(i =>
            _store.AdmitAsync(i % 2 == 0 ? small : large, 10, $"lease-{i}", LeaseTtl, 1)));

        // The small model's bucket holds 3 requests of 10 tokens; the large model's 30 all fit; the shared key counts both.
        Assert.Equal(3, decisions.Where(static (_, i) => i % 2 == 0).Count(static d => d.Admitted));
        Assert.Equal(30, decisions.Where(static (_, i) => i % 2 == 1).Count(static d => d.Admitted));
        Assert.Equal(330, await _redis.BucketUsedAsync("{t}:key:c:tokens:day"));
        Assert.Equal(30, await _redis.BucketUsedAsync("{t}:model:m1:tokens:day"));
        Assert.Equal(300, await _redis.BucketUsedAsync("{t}:model:m2:tokens:day"));
        Assert.All(decisions.Where(static d => !d.Admitted), static d => Assert.Equal(1, d.RejectedRule));
    }

    [Fact]
    public async Task AdmitAsync_OneBucketUnderTwoLimitsAtOnce_DecidesEachRequestByItsOwnLimit()
    {
        // A config reload between requests: the same bucket, 10 before and 1,000 after, the two plans' requests interleaved.
        var before = new LimitPlan([Rule(LimitKind.Requests, 10, TimeSpan.FromDays(1), "{t}:key:f:requests:day")]);
        var after = new LimitPlan([Rule(LimitKind.Requests, 1_000, TimeSpan.FromDays(1), "{t}:key:f:requests:day")]);

        var decisions = await Task.WhenAll(Enumerable.Range(0, 40).Select(i =>
            _store.AdmitAsync(i % 2 == 0 ? before : after, 0, $"lease-{i}", LeaseTtl, 1)));

        // In order: the old limit admits while fewer than 10 are counted (5 of its requests), the new one all 20.
        Assert.Equal(5, decisions.Where(static (_, i) => i % 2 == 0).Count(static d => d.Admitted));
        Assert.Equal(20, decisions.Where(static (_, i) => i % 2 == 1).Count(static d => d.Admitted));
        Assert.Equal(25, await _redis.BucketUsedAsync("{t}:key:f:requests:day"));
    }

    [Fact]
    public async Task AdmitAsync_TwoHashTagsAtOnce_DecidesEachInItsOwnHash()
    {
        var first = new LimitPlan([Rule(LimitKind.Requests, 10, TimeSpan.FromDays(1), "{t}:key:e:requests:day")]);
        var second = new LimitPlan([Rule(LimitKind.Requests, 10, TimeSpan.FromDays(1), "{u}:key:e:requests:day")]);

        var decisions = await Task.WhenAll(Enumerable.Range(0, 40).Select(i =>
            _store.AdmitAsync(i % 2 == 0 ? first : second, 0, $"lease-{i}", LeaseTtl, 1)));

        Assert.Equal(20, decisions.Count(static d => d.Admitted));
        Assert.Equal(10, await _redis.BucketUsedAsync("{t}:key:e:requests:day"));
        Assert.Equal(10, await _redis.BucketUsedAsync("{u}:key:e:requests:day"));
    }

    [Fact]
    public async Task AdmitAsync_RedisGone_FailsEveryWaitingRequest()
    {
        var plan = new LimitPlan([Rule(LimitKind.Requests, 50, TimeSpan.FromDays(1), "{t}:key:d:requests:day")]);
        await _redis.StopAsync();

        var admissions = Enumerable.Range(0, 20).Select(i => _store.AdmitAsync(plan, 0, $"lease-{i}", LeaseTtl, 1)).ToArray();

        foreach (var admission in admissions)
        {
            await Assert.ThrowsAnyAsync<RedisException>(() => admission);
        }
    }

    private static LimitRule Rule(LimitKind kind, long limit, TimeSpan window, string key) => new(kind, "key", "a", limit, window, key);

    private async Task<long> ScriptCallsAsync()
    {
        var info = await _redis.Database.ExecuteAsync("INFO", "commandstats");
        var line = ((string)info!).Split('\n').FirstOrDefault(static l => l.StartsWith("cmdstat_evalsha:", StringComparison.Ordinal));
        var evalLine = ((string)info!).Split('\n').FirstOrDefault(static l => l.StartsWith("cmdstat_eval:", StringComparison.Ordinal));
        return Calls(line) + Calls(evalLine);
    }

    private static long Calls(string? line)
    {
        if (line is null)
        {
            return 0;
        }

        var start = line.IndexOf("calls=", StringComparison.Ordinal) + 6;
        var end = line.IndexOf(',', start);
        return long.Parse(line[start..end], System.Globalization.CultureInfo.InvariantCulture);
    }
}
