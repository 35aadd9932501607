using System.Collections.Concurrent;

namespace LlmProxy.RateLimiting;

/// <summary>
/// Sums token refunds per bucket and sends them together, one settlement call per store every interval instead of
/// one per request: a reservation is given back at most one interval late, and Redis and the gateway do a fraction of
/// the work. Concurrency leases are not batched (they gate admissions); the caller releases them at once.
/// </summary>
public sealed class SettlementBatcher : IDisposable
{
    private readonly TimeProvider _time;
    private readonly Action<Exception> _onError;
    private readonly Lock _gate = new();
    private readonly ConcurrentDictionary<(ILimitStore Store, string Key, int Divisor), Pending> _pending = new();
    private ITimer? _timer;
    private TimeSpan _interval;

    /// <summary>Creates a batcher; <paramref name="onError"/> hears about failed flushes.</summary>
    public SettlementBatcher(TimeProvider time, Action<Exception> onError)
    {
        _time = time;
        _onError = onError;
    }

    /// <summary>Adds a refund, to be sent within <paramref name="interval"/>.</summary>
    public void Add(ILimitStore store, BucketRefund refund, TimeSpan interval)
    {
        var pending = _pending.GetOrAdd((store, refund.Rule.StoreKey, refund.Divisor), static (_, rule) => new Pending(rule), refund.Rule);
        Interlocked.Add(ref pending.Tokens, refund.Tokens);
        if (_timer is null || _interval != interval)
        {
            Start(interval);
        }
    }

    /// <summary>Sends everything summed so far: one call per store.</summary>
    public void Flush()
    {
        // Entries stay (one per token bucket in use); taking their sums with an exchange loses no concurrent Add.
        foreach (var group in _pending.GroupBy(static entry => entry.Key.Store))
        {
            var refunds = group
                .Select(static entry => new BucketRefund(entry.Value.Rule, entry.Key.Divisor, Interlocked.Exchange(ref entry.Value.Tokens, 0)))
                .Where(static refund => refund.Tokens != 0)
                .ToArray();
            if (refunds.Length == 0)
            {
                continue;
            }

            try
            {
                group.Key.SettleAsync(refunds, [], "").ContinueWith(
                    static (task, state) => ((Action<Exception>)state!)(task.Exception!.InnerException!),
                    _onError, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            }
            catch (Exception ex) when (ex is InvalidOperationException or StackExchange.Redis.RedisException)
            {
                _onError(ex);
            }
        }
    }

    /// <summary>Stops the timer and sends what is pending.</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            _timer?.Dispose();
            _timer = null;
        }

        Flush();
    }

    private void Start(TimeSpan interval)
    {
        lock (_gate)
        {
            if (_timer is not null && _interval == interval)
            {
                return;
            }

            _timer?.Dispose();
            _interval = interval;
            _timer = _time.CreateTimer(static state => ((SettlementBatcher)state!).Flush(), this, interval, interval);
        }
    }

    private sealed class Pending(LimitRule rule)
    {
        public readonly LimitRule Rule = rule;
        public long Tokens;
    }
}
