using StackExchange.Redis;

namespace LlmProxy.RateLimiting;

/// <summary>
/// Limits shared by every replica: one Lua script call decides admission for all the rules of a request (a busy
/// gateway's requests go together, see <see cref="AdmissionQueue"/>), one more settles it. Keys share one hash tag
/// (<c>{prefix}</c>), so a script's keys sit in one Redis Cluster slot: the buckets are fields of one hash
/// (<c>{prefix}:buckets</c>), the concurrency caps sorted sets of their own. The store's <see cref="Circuit"/> tracks
/// whether this connection's Redis is answering.
/// </summary>
public sealed class RedisLimitStore : ILimitStore
{
    private static readonly string AdmitScript = ReadScript("bucket.lua") + ReadScript("admit.lua");
    private static readonly string SettleScript = ReadScript("bucket.lua") + ReadScript("settle.lua");

    private readonly IDatabase _database;
    private readonly RateLimitClock _clock;
    private readonly AdmissionQueue _admissions;

    /// <summary>Creates a store on one database.</summary>
    public RedisLimitStore(IDatabase database, RateLimitClock clock, RedisCircuit circuit)
    {
        _database = database;
        _clock = clock;
        Circuit = circuit;
        _admissions = new AdmissionQueue(batch => _database.ScriptEvaluateAsync(AdmitScript, batch.Keys(), batch.Values(_clock.RedisNowMs() ?? -1)));
    }

    /// <summary>Whether Redis is answering on this connection (requests report their replies to it).</summary>
    public RedisCircuit Circuit { get; }

    /// <inheritdoc/>
    public Task<LimitDecision> AdmitAsync(LimitPlan plan, long tokens, string leaseId, TimeSpan leaseTtl, int divisor)
        => _admissions.Enqueue(new AdmissionBatch.Pending(plan, tokens, leaseId, leaseTtl, divisor));

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
    public Task SettleAsync(IReadOnlyList<BucketRefund> refunds, IReadOnlyList<LimitRule> leases, string leaseId)
    {
        // One call per buckets hash: refunds batched across a config reload that changed the key prefix are two.
        var hash = refunds.Count > 0 ? refunds[0].Rule.BucketsKey : leases.Count > 0 ? leases[0].BucketsKey : null;
        if (hash is null)
        {
            return Task.CompletedTask;
        }

        var mine = refunds.Where(refund => refund.Rule.BucketsKey == hash).ToArray();
        var rest = refunds.Count == mine.Length ? [] : refunds.Where(refund => refund.Rule.BucketsKey != hash).ToArray();
        var keys = new RedisKey[1 + leases.Count];
        var values = new RedisValue[3 + (4 * mine.Length)];
        keys[0] = hash;
        values[0] = _clock.RedisNowMs() ?? -1;
        values[1] = mine.Length;
        values[2] = leaseId;
        var at = 3;
        foreach (var refund in mine)
        {
            values[at++] = refund.Rule.BucketField;
            values[at++] = Capacity(refund.Rule, refund.Divisor);
            values[at++] = refund.Rule.WindowMs;
            values[at++] = refund.Tokens;
        }

        for (var j = 0; j < leases.Count; j++)
        {
            keys[1 + j] = leases[j].StoreKey;
        }

        var call = _database.ScriptEvaluateAsync(SettleScript, keys, values);
        return rest.Length == 0 ? call : Task.WhenAll(call, SettleAsync(rest, [], leaseId));
    }

    /// <summary>A rule's capacity under a divisor (see <see cref="ILimitStore.AdmitAsync"/>).</summary>
    internal static RedisValue Capacity(LimitRule rule, int divisor)
        => divisor <= 1 ? rule.Limit : (long)MemoryLimitStore.Capacity(rule, divisor);

    private static string ReadScript(string name)
    {
        using var stream = typeof(RedisLimitStore).Assembly.GetManifestResourceStream("LlmProxy.RateLimiting.Scripts." + name)
            ?? throw new InvalidOperationException($"embedded script {name} is missing");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
