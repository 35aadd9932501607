using StackExchange.Redis;

namespace LlmProxy.RateLimiting;

/// <summary>
/// The requests one admission script call decides, in order, and how their arguments and replies are laid out
/// (see <c>Scripts/admit.lua</c>): every limit once, every plan once as limit indexes, then per request its plan, its
/// token estimate and its lease. A batch holds requests of one hash tag, lease lifetime and divisor.
/// </summary>
internal sealed class AdmissionBatch
{
    private readonly List<Pending> _requests = [];
    private readonly Dictionary<string, int> _limitIndex = new(StringComparer.Ordinal);
    private readonly List<LimitRule> _limits = [];
    private readonly Dictionary<LimitPlan, int> _planIndex = new(ReferenceEqualityComparer.Instance);
    private readonly List<LimitPlan> _plans = [];
    private readonly List<RedisKey> _keys = [];
    private Pending? _first;
    private int _planValues;
    private int _requestValues;

    /// <summary>The number of requests in the batch.</summary>
    public int Count => _requests.Count;

    /// <summary>
    /// True when the request can join: the same hash tag (one Cluster slot), lease lifetime and divisor, and no bucket it
    /// shares with the batch under another limit (a config reload between two requests): the script applies one limit
    /// per bucket, so such a request goes in the next call.
    /// </summary>
    public bool Fits(Pending request)
    {
        if (_first is null)
        {
            return true;
        }

        var plan = request.Plan;
        if (plan.HashTag != _first.Plan.HashTag || request.LeaseTtl != _first.LeaseTtl || request.Divisor != _first.Divisor)
        {
            return false;
        }

        if (_planIndex.ContainsKey(plan))
        {
            return true;
        }

        foreach (var rule in plan.Rules)
        {
            if (_limitIndex.TryGetValue(rule.StoreKey, out var k) && _limits[k - 1].Limit != rule.Limit)
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Adds one request; its task completes with its decision when the batch's reply is read.</summary>
    public void Add(Pending request)
    {
        if (_first is null)
        {
            _first = request;
            _keys.Add(request.Plan.Rules[0].BucketsKey);
        }

        _requests.Add(request);
        var plan = request.Plan;
        _requestValues += 1 + (plan.HasTokens ? 1 : 0) + (plan.HasConcurrency ? 1 : 0);
        if (_planIndex.ContainsKey(plan))
        {
            return;
        }

        _plans.Add(plan);
        _planIndex[plan] = _plans.Count;
        _planValues += 1 + plan.Rules.Length;
        foreach (var rule in plan.Rules)
        {
            if (!_limitIndex.ContainsKey(rule.StoreKey))
            {
                _limits.Add(rule);
                _limitIndex[rule.StoreKey] = _limits.Count;
                if (rule.Kind == LimitKind.Concurrency)
                {
                    _keys.Add(rule.StoreKey);
                }
            }
        }
    }

    /// <summary>The script's keys: the buckets hash, then the caps.</summary>
    public RedisKey[] Keys() => [.. _keys];

    /// <summary>The script's arguments, with <paramref name="now"/> first (-1: Redis's own clock).</summary>
    public RedisValue[] Values(long now)
    {
        var first = _first!;
        var onePlan = _plans.Count == 1;
        var values = new RedisValue[3 + (4 * _limits.Count) + 1 + _planValues + 1 + _requestValues - (onePlan ? _requests.Count : 0)];
        values[0] = now;
        values[1] = (long)first.LeaseTtl.TotalMilliseconds;
        values[2] = _limits.Count;
        var at = 3;
        var cap = 1;
        foreach (var rule in _limits)
        {
            var concurrency = rule.Kind == LimitKind.Concurrency;
            values[at++] = concurrency ? 2 : rule.Kind == LimitKind.Tokens ? 1 : 0;
            values[at++] = RedisLimitStore.Capacity(rule, first.Divisor);
            values[at++] = concurrency ? 0 : rule.WindowMs;
            values[at++] = concurrency ? ++cap : rule.BucketField;
        }

        values[at++] = _plans.Count;
        foreach (var plan in _plans)
        {
            values[at++] = plan.Rules.Length;
            foreach (var rule in plan.Rules)
            {
                values[at++] = _limitIndex[rule.StoreKey];
            }
        }

        values[at++] = _requests.Count;
        foreach (var request in _requests)
        {
            if (!onePlan)
            {
                values[at++] = _planIndex[request.Plan];
            }

            if (request.Plan.HasTokens)
            {
                values[at++] = request.Tokens;
            }

            if (request.Plan.HasConcurrency)
            {
                values[at++] = request.LeaseId;
            }
        }

        return values;
    }

    /// <summary>
    /// Hands each request its decision. The reply holds each limit as the batch found it and one verdict per request;
    /// replaying the verdicts in order with the script's own arithmetic (the same double operations, so the same
    /// results) gives each request its remaining and reset figures and a refusal's use and retry time.
    /// </summary>
    public void Complete(RedisResult reply)
    {
        var result = (RedisResult[])reply!;
        var used = new double[_limits.Count];
        var held = new long[_limits.Count];
        for (var k = 0; k < _limits.Count; k++)
        {
            if (_limits[k].Kind == LimitKind.Concurrency)
            {
                held[k] = (long)result[k];
            }
            else
            {
                used[k] = double.Parse((string)result[k]!, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture);
            }
        }

        var divisor = _first!.Divisor;
        for (var r = 0; r < _requests.Count; r++)
        {
            var request = _requests[r];
            var rules = request.Plan.Rules;
            var buckets = request.Plan.Buckets;
            var verdict = (int)(long)result[_limits.Count + r];
            long refusedUsed = 0, retryMs = 0;
            if (verdict == 0)
            {
                foreach (var rule in rules)
                {
                    var k = _limitIndex[rule.StoreKey] - 1;
                    if (rule.Kind == LimitKind.Concurrency)
                    {
                        held[k]++;
                    }
                    else
                    {
                        used[k] += Cost(rule, request);
                    }
                }
            }
            else
            {
                var rule = rules[verdict - 1];
                var k = _limitIndex[rule.StoreKey] - 1;
                if (rule.Kind == LimitKind.Concurrency)
                {
                    refusedUsed = held[k];
                }
                else
                {
                    double capacity = (long)RedisLimitStore.Capacity(rule, divisor);
                    refusedUsed = (long)Math.Ceiling(used[k]);
                    retryMs = (long)Math.Ceiling((used[k] + Cost(rule, request) - capacity) * rule.WindowMs / capacity);
                }
            }

            var remaining = new long[buckets];
            var reset = new long[buckets];
            for (var i = 0; i < buckets; i++)
            {
                var rule = rules[i];
                var k = _limitIndex[rule.StoreKey] - 1;
                double capacity = (long)RedisLimitStore.Capacity(rule, divisor);
                remaining[i] = (long)Math.Floor(capacity - used[k]);
                reset[i] = (long)Math.Ceiling(used[k] * rule.WindowMs / capacity);
            }

            request.Decision.TrySetResult(verdict == 0
                ? LimitDecision.Admit(remaining, reset)
                : LimitDecision.Reject(verdict - 1, refusedUsed, retryMs, remaining, reset));
        }
    }

    private static double Cost(LimitRule rule, Pending request) => rule.Kind == LimitKind.Tokens ? request.Tokens : 1;

    /// <summary>Fails every request of the batch with the call's error.</summary>
    public void Fail(Exception error)
    {
        foreach (var request in _requests)
        {
            request.Decision.TrySetException(error);
        }
    }

    /// <summary>One request waiting for its decision.</summary>
    internal sealed class Pending(LimitPlan plan, long tokens, string leaseId, TimeSpan leaseTtl, int divisor)
    {
        public LimitPlan Plan { get; } = plan;

        public long Tokens { get; } = tokens;

        public string LeaseId { get; } = leaseId;

        public TimeSpan LeaseTtl { get; } = leaseTtl;

        public int Divisor { get; } = divisor;

        public TaskCompletionSource<LimitDecision> Decision { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
