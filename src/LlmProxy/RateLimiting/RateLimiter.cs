using LlmProxy.Configuration;
using LlmProxy.Telemetry;
using StackExchange.Redis;

namespace LlmProxy.RateLimiting;

/// <summary>
/// Decides admission with the right store: Redis when configured, connected and answering (one script call), memory
/// when no Redis is configured, and the <c>redis.on_failure</c> policy otherwise: fail-open admits against
/// limit / replicas in memory, fail-closed refuses. Whether Redis answers is its connection's
/// <see cref="RedisCircuit"/>, not one reply: while it is closed a request waits for its own reply up to
/// <see cref="RedisConnection.ReplyWait"/>, so a reply slowed by a burst still decides, exactly; a request with no reply
/// by then, or any request while the circuit is open, takes the policy.
/// </summary>
public sealed partial class RateLimiter : IDisposable
{
    private readonly RedisConnection _redis;
    private readonly MemoryLimitStore _memory;
    private readonly LlmProxyMetrics _metrics;
    private readonly ILogger<RateLimiter> _logger;
    private readonly TimeProvider _time;
    private readonly SettlementBatcher _batcher;
    private long _lastFallbackLog = long.MinValue;

    /// <summary>Creates the limiter.</summary>
    public RateLimiter(RedisConnection redis, TimeProvider time, LlmProxyMetrics metrics, ILogger<RateLimiter> logger)
    {
        _redis = redis;
        _time = time;
        _memory = new MemoryLimitStore(time);
        _metrics = metrics;
        _logger = logger;
        _batcher = new SettlementBatcher(time, ex => Log.SettleFailed(logger, ex.GetType().Name));
    }

    /// <summary>The outcome of one admission.</summary>
    /// <param name="Decision">The decision; null when Redis is unreachable and the policy is fail-closed.</param>
    /// <param name="Store">The store that decided (and must settle).</param>
    /// <param name="Divisor">The divisor of the limits it applied (replicas while failing open, else 1).</param>
    public readonly record struct Outcome(LimitDecision? Decision, ILimitStore Store, int Divisor);

    /// <summary>Admits one request under its plan.</summary>
    public async Task<Outcome> AdmitAsync(GatewaySnapshot snapshot, LimitPlan plan, long tokens, string leaseId, TimeSpan leaseTtl)
    {
        if (snapshot.RedisConnection is not { } connection)
        {
            return new Outcome(await _memory.AdmitAsync(plan, tokens, leaseId, leaseTtl, 1), _memory, 1);
        }

        var settings = snapshot.Config.Redis;
        var store = await _redis.StoreAsync(connection, settings.TimeoutMs);
        var pass = store?.Circuit.Enter() ?? CircuitState.Open;
        if (store is null)
        {
            LogFallback(settings, "not connected");
        }
        else if (pass == CircuitState.Open)
        {
            LogFallback(settings, "not answering; circuit open");
        }
        else
        {
            // A probe waits as long as any request: a Redis that answers within that closes the circuit again, even when
            // timeout_ms is shorter than its replies (otherwise the circuit could stay open while Redis answers).
            var wait = RedisConnection.ReplyWait(settings.TimeoutMs);
            var reply = store.AdmitAsync(plan, tokens, leaseId, leaseTtl, 1);
            try
            {
                var decision = await ReplyAsync(reply, wait);
                store.Circuit.Succeeded();
                return new Outcome(decision, store, 1);
            }
            catch (Exception ex) when (ex is RedisException or TimeoutException or ObjectDisposedException)
            {
                store.Circuit.Failed();
                LogFallback(settings, ex.GetType().Name);
                if (ex is TimeoutException)
                {
                    // The script may still run: if it admitted, give back what it took, or its lease would hold a slot.
                    _ = reply.ContinueWith(
                        t => UndoLateAdmission(store, plan, tokens, leaseId, t.Result),
                        CancellationToken.None, TaskContinuationOptions.OnlyOnRanToCompletion, TaskScheduler.Default);
                }
            }
        }

        if (settings.OnFailure == RedisFailurePolicy.FailClosed)
        {
            _metrics.RateLimitDecision("fail_closed", null, null);
            return new Outcome(null, _memory, 1);
        }

        _metrics.RateLimitDecision("fail_open", null, null);
        return new Outcome(await _memory.AdmitAsync(plan, tokens, leaseId, leaseTtl, settings.Replicas), _memory, settings.Replicas);
    }

    // Waits for Redis's reply at most `wait`. The client reads replies on threads of its own, but a reply's task completes
    // on the thread pool, and on a pool backlogged by a burst the timer can fire first. So a reply that is not there yet
    // gets one more lap to the back of the pool's queue, behind any completion queued before the timer fired; on a pool
    // that keeps up the lap costs microseconds.
    private async Task<LimitDecision> ReplyAsync(Task<LimitDecision> reply, TimeSpan wait)
    {
        try
        {
            return await reply.WaitAsync(wait, _time);
        }
        catch (TimeoutException)
        {
        }

        if (!reply.IsCompleted)
        {
            await Task.Yield();
        }

        return reply.IsCompleted ? await reply : throw new TimeoutException($"Redis did not answer within {wait.TotalMilliseconds} ms");
    }

    private void UndoLateAdmission(ILimitStore store, LimitPlan plan, long tokens, string leaseId, LimitDecision decision)
    {
        if (decision.Admitted)
        {
            Settle(store, plan, tokens, leaseId, 1, intervalMs: 0);
        }
    }

    /// <summary>
    /// Settles one request off the response path. Token refunds are batched (see <see cref="SettlementBatcher"/>)
    /// unless the request holds concurrency leases or <c>rate_limits.settle_interval_ms</c> is 0: then one call does
    /// both at once. A failure is logged: reserved tokens refill with time and leases expire.
    /// </summary>
    public void Settle(ILimitStore store, LimitPlan plan, long tokenRefund, string leaseId, int divisor, int intervalMs)
    {
        var tokenRules = tokenRefund != 0 ? plan.TokenRules : [];
        if (!plan.HasConcurrency && intervalMs > 0)
        {
            foreach (var rule in tokenRules)
            {
                _batcher.Add(store, new BucketRefund(rule, divisor, tokenRefund), TimeSpan.FromMilliseconds(intervalMs));
            }

            return;
        }

        var leases = plan.ConcurrencyRules;
        if (tokenRules.Length == 0 && leases.Length == 0)
        {
            return;
        }

        var refunds = Array.ConvertAll(tokenRules, rule => new BucketRefund(rule, divisor, tokenRefund));

        Task task;
        try
        {
            task = store.SettleAsync(refunds, leases, leaseId);
        }
        catch (RedisException ex)
        {
            Log.SettleFailed(_logger, ex.GetType().Name);
            return;
        }

        if (!task.IsCompletedSuccessfully)
        {
            _ = task.ContinueWith(
                static (t, state) => Log.SettleFailed((ILogger)state!, t.Exception!.InnerException!.GetType().Name),
                _logger,
                CancellationToken.None,
                TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously,
                TaskScheduler.Default);
        }
    }

    /// <inheritdoc/>
    public void Dispose() => _batcher.Dispose();

    // One line per ten seconds at most while Redis is out, so an outage does not flood the log.
    private void LogFallback(RedisSettings settings, string reason)
    {
        var now = _time.GetTimestamp();
        var last = Interlocked.Read(ref _lastFallbackLog);
        if (last != long.MinValue && _time.GetElapsedTime(last, now) < TimeSpan.FromSeconds(10))
        {
            return;
        }

        if (Interlocked.CompareExchange(ref _lastFallbackLog, now, last) == last)
        {
            Log.Fallback(_logger, reason, settings.OnFailure.Name(), settings.Replicas);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = EventIds.RateLimitFallback, Level = LogLevel.Warning,
            Message = "Redis is unavailable for rate limits ({Reason}); policy {Policy} (fail-open counts locally against limit / {Replicas})")]
        public static partial void Fallback(ILogger logger, string reason, string policy, int replicas);

        [LoggerMessage(EventId = EventIds.RateLimitSettleFailed, Level = LogLevel.Warning,
            Message = "A rate-limit settlement failed ({Reason}); reserved tokens refill with time and the lease expires")]
        public static partial void SettleFailed(ILogger logger, string reason);
    }
}
