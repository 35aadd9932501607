using LlmProxy.RateLimiting;
using StackExchange.Redis;

namespace LlmProxy.Tests.RateLimiting;

/// <summary>A fault while sending a batch or reading its reply fails that batch's requests, never the queue.</summary>
public sealed class AdmissionQueueTests
{
    private static readonly LimitPlan Plan = new([new LimitRule(LimitKind.Requests, "key", "a", 10, TimeSpan.FromMinutes(1), "{t}:key:a:requests:minute")]);

    [Fact]
    public async Task Enqueue_SendThrowsAnyException_FailsThatBatchAndSendsTheNext()
    {
        var calls = 0;
        var queue = new AdmissionQueue(_ => ++calls == 1 ? throw new ArgumentException("bad argument") : Task.FromResult(Reply("0", 0)));

        var first = queue.Enqueue(Pending());
        var second = queue.Enqueue(Pending());

        await Assert.ThrowsAsync<ArgumentException>(() => first);
        Assert.True((await second.WaitAsync(TimeSpan.FromSeconds(10))).Admitted);
        Assert.Equal(2, calls);
    }

    [Fact]
    public async Task Enqueue_ReplyThatCannotBeRead_FailsLikeARedisErrorAndTheQueueGoesOn()
    {
        var calls = 0;
        var slow = new TaskCompletionSource<RedisResult>(TaskCreationOptions.RunContinuationsAsynchronously);
        var queue = new AdmissionQueue(_ => ++calls == 1 ? slow.Task : Task.FromResult(Reply("0", 0)));

        // The first call is out; the second waits for it.
        var first = queue.Enqueue(Pending());
        var second = queue.Enqueue(Pending());
        Assert.Equal(1, calls);

        // A number the gateway cannot parse (a FormatException, not a cast error).
        slow.SetResult(Reply("not-a-number", 0));

        var error = await Assert.ThrowsAsync<RedisException>(() => first.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Contains("FormatException", error.Message, StringComparison.Ordinal);
        Assert.True((await second.WaitAsync(TimeSpan.FromSeconds(10))).Admitted);
        Assert.Equal(2, calls);
    }

    [Fact]
    public async Task Enqueue_WhileACallIsOut_SendsTheWaitingRequestsInOneCall()
    {
        var sizes = new List<int>();
        var slow = new TaskCompletionSource<RedisResult>(TaskCreationOptions.RunContinuationsAsynchronously);
        var queue = new AdmissionQueue(batch =>
        {
            sizes.Add(batch.Count);
            return sizes.Count == 1 ? slow.Task : Task.FromResult(Reply("1", 0, 0, 0));
        });

        var admissions = Enumerable.Range(0, 4).Select(_ => queue.Enqueue(Pending())).ToArray();
        slow.SetResult(Reply("0", 0));
        var decisions = await Task.WhenAll(admissions);

        Assert.Equal([1, 3], sizes);
        // Replayed in order: the later requests of the second call see the ones before them.
        Assert.Equal([9L, 8, 7, 6], decisions.Select(static d => d.Remaining[0]));
    }

    [Fact]
    public async Task Enqueue_FullBatchWaitingWhileACallIsOut_SendsItWithoutWaiting()
    {
        var sizes = new List<int>();
        var slow = new TaskCompletionSource<RedisResult>(TaskCreationOptions.RunContinuationsAsynchronously);
        var queue = new AdmissionQueue(batch =>
        {
            sizes.Add(batch.Count);
            return sizes.Count == 1 ? slow.Task : Task.FromResult(Reply("1", new int[batch.Count]));
        });

        var admissions = Enumerable.Range(0, 2 + AdmissionQueue.MaxBatch).Select(_ => queue.Enqueue(Pending())).ToArray();

        // The first call is still out: a full batch went anyway, the one request after it waits.
        Assert.Equal([1, AdmissionQueue.MaxBatch], sizes);
        slow.SetResult(Reply("0", 0));
        await Task.WhenAll(admissions).WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal([1, AdmissionQueue.MaxBatch, 1], sizes);
    }

    private static AdmissionBatch.Pending Pending() => new(Plan, 0, "lease", TimeSpan.FromMinutes(1), 1);

    // The script's reply: the limit's use as found, then one verdict per request (0: admitted).
    private static RedisResult Reply(string used, params int[] verdicts)
        => RedisResult.Create([RedisResult.Create((RedisValue)used), .. verdicts.Select(static v => RedisResult.Create((RedisValue)v))]);
}
