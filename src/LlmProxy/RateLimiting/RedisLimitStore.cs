using StackExchange.Redis;

namespace LlmProxy.RateLimiting;

/// <summary>
/// Limits shared by every replica: one Lua script call decides admission for all the rules of a request, one more
/// settles it. Keys share one hash tag (<c>{prefix}</c>), so a script's keys sit in one Redis Cluster slot. The
/// store's <see cref="Circuit"/> tracks whether this connection's Redis is answering.
/// </summary>
public sealed class RedisLimitStore : ILimitStore
{
    private static readonly string AdmitScript = ReadScript("bucket.lua") + ReadScript("admit.lua");
    private static readonly string SettleScript = ReadScript("bucket.lua") + ReadScript("settle.lua");

    private readonly IDatabase _database;
    private readonly RateLimitClock _clock;

    /// <summary>Creates a store on one database.</summary>
    public RedisLimitStore(IDatabase database, RateLimitClock clock, RedisCircuit circuit)
    {
        _database = database;
        _clock = clock;
        Circuit = circuit;
    }

    /// <summary>Whether Redis is answering on this connection (requests report their replies to it).</summary>
    public RedisCircuit Circuit { get; }

    /// <inheritdoc/>
    public async Task<LimitDecision> AdmitAsync(LimitPlan plan, long tokens, string leaseId, TimeSpan leaseTtl, int divisor)
        => ReadAdmission(plan, await SendAdmissionAsync(plan, tokens, leaseId, leaseTtl, divisor));

    /// <summary>
    /// Sends the admission script of <see cref="AdmitAsync"/>; the task completes when the client has read Redis's reply
    /// (its continuations may run later, on a busy thread pool). <see cref="ReadAdmission"/> turns the reply into the decision.
    /// </summary>
    public Task<RedisResult> SendAdmissionAsync(LimitPlan plan, long tokens, string leaseId, TimeSpan leaseTtl, int divisor)
    {
        var rules = plan.Rules;
        var keys = new RedisKey[rules.Length];
        var values = new RedisValue[4 + (3 * plan.Buckets) + (rules.Length - plan.Buckets)];
        values[0] = _clock.RedisNowMs() ?? -1;
        values[1] = plan.Buckets;
        values[2] = leaseId;
        values[3] = (long)leaseTtl.TotalMilliseconds;
        var at = 4;
        for (var i = 0; i < rules.Length; i++)
        {
            var rule = rules[i];
            keys[i] = rule.StoreKey;
            values[at++] = Capacity(rule, divisor);
            if (rule.Kind != LimitKind.Concurrency)
            {
                values[at++] = rule.WindowMs;
                values[at++] = rule.Kind == LimitKind.Tokens ? tokens : 1;
            }
        }

        // Buckets first, then the caps, as the script expects: rules are ordered that way.
        return _database.ScriptEvaluateAsync(AdmitScript, keys, values);
    }

    /// <summary>The decision in a reply of the admission script.</summary>
    public static LimitDecision ReadAdmission(LimitPlan plan, RedisResult reply)
    {
        var result = (RedisResult[])reply!;
        var remaining = new long[plan.Buckets];
        var reset = new long[plan.Buckets];
        for (var i = 0; i < plan.Buckets; i++)
        {
            remaining[i] = (long)result[4 + (2 * i)];
            reset[i] = (long)result[5 + (2 * i)];
        }

        return (long)result[0] == 0
            ? LimitDecision.Reject((int)(long)result[1] - 1, (long)result[2], (long)result[3], remaining, reset)
            : LimitDecision.Admit(remaining, reset);
    }

    /// <summary>
    /// Loads the scripts on every primary the connection reaches, so that even the first burst of a fresh replica sends
    /// each script by its hash: until the client knows a script is loaded, every call sends it in full, twice. A primary
    /// that cannot be reached is left to load them on first use.
    /// </summary>
    public static async Task LoadScriptsAsync(IConnectionMultiplexer multiplexer)
    {
        foreach (var endpoint in multiplexer.GetEndPoints())
        {
            var server = multiplexer.GetServer(endpoint);
            if (!server.IsConnected || server.IsReplica)
            {
                continue;
            }

            try
            {
                await server.ScriptLoadAsync(AdmitScript);
                await server.ScriptLoadAsync(SettleScript);
            }
            catch (Exception ex) when (ex is RedisException or TimeoutException)
            {
            }
        }
    }

    /// <summary>One round trip that changes nothing (the circuit's probe when no request is there to be one).</summary>
    public Task PingAsync() => _database.PingAsync();

    /// <inheritdoc/>
    public async Task SettleAsync(IReadOnlyList<BucketRefund> refunds, IReadOnlyList<LimitRule> leases, string leaseId)
    {
        var keys = new RedisKey[refunds.Count + leases.Count];
        var values = new RedisValue[3 + (3 * refunds.Count)];
        values[0] = _clock.RedisNowMs() ?? -1;
        values[1] = refunds.Count;
        values[2] = leaseId;
        var at = 3;
        for (var i = 0; i < refunds.Count; i++)
        {
            var refund = refunds[i];
            keys[i] = refund.Rule.StoreKey;
            values[at++] = Capacity(refund.Rule, refund.Divisor);
            values[at++] = refund.Rule.WindowMs;
            values[at++] = refund.Tokens;
        }

        for (var j = 0; j < leases.Count; j++)
        {
            keys[refunds.Count + j] = leases[j].StoreKey;
        }

        if (keys.Length > 0)
        {
            await _database.ScriptEvaluateAsync(SettleScript, keys, values);
        }
    }

    private static RedisValue Capacity(LimitRule rule, int divisor)
        => divisor <= 1 ? rule.Limit : (long)MemoryLimitStore.Capacity(rule, divisor);

    private static string ReadScript(string name)
    {
        using var stream = typeof(RedisLimitStore).Assembly.GetManifestResourceStream("LlmProxy.RateLimiting.Scripts." + name)
            ?? throw new InvalidOperationException($"embedded script {name} is missing");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
