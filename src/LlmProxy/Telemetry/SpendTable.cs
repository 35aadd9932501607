using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using LlmProxy.Usage;

namespace LlmProxy.Telemetry;

/// <summary>
/// Tokens and cost by model, key id, team and whether the usage was estimated: one dictionary lookup per request
/// for all of them, read as the <c>llmproxy.tokens</c> and <c>llmproxy.cost</c> observable counters when the
/// exporter collects.
/// </summary>
internal sealed class SpendTable
{
    private readonly ConcurrentDictionary<SpendKey, Spend> _sums = new();

    /// <summary>Adds one request's tokens, and its cost in nano-dollars when the price is known.</summary>
    public void Add(string model, string keyId, string team, TokenUsage usage, long? costNanoUsd)
    {
        var spend = _sums.GetOrAdd(new SpendKey(model, keyId, team, usage.Estimated), static _ => new Spend());
        Interlocked.Add(ref spend.Input, usage.Input);
        Interlocked.Add(ref spend.Output, usage.Output);
        if (usage.CachedInput > 0)
        {
            Interlocked.Add(ref spend.CachedInput, usage.CachedInput);
        }

        if (usage.Reasoning > 0)
        {
            Interlocked.Add(ref spend.Reasoning, usage.Reasoning);
        }

        if (costNanoUsd is { } cost)
        {
            Interlocked.Add(ref spend.CostNanoUsd, cost);
            Volatile.Write(ref spend.HasCost, true);
        }
    }

    /// <summary>Token sums by model, key, team, token type and estimated; cached and reasoning only once seen.</summary>
    public IEnumerable<Measurement<long>> ObserveTokens()
    {
        foreach (var (key, spend) in _sums)
        {
            yield return new Measurement<long>(Volatile.Read(ref spend.Input), key.Tags("input"));
            yield return new Measurement<long>(Volatile.Read(ref spend.Output), key.Tags("output"));
            if (Volatile.Read(ref spend.CachedInput) is > 0 and var cached)
            {
                yield return new Measurement<long>(cached, key.Tags("cached_input"));
            }

            if (Volatile.Read(ref spend.Reasoning) is > 0 and var reasoning)
            {
                yield return new Measurement<long>(reasoning, key.Tags("reasoning"));
            }
        }
    }

    /// <summary>Cost in USD by model, key and team (estimated and exact usage together).</summary>
    public IEnumerable<Measurement<double>> ObserveCost()
    {
        var totals = new Dictionary<(string Model, string KeyId, string Team), long>();
        foreach (var (key, spend) in _sums)
        {
            if (Volatile.Read(ref spend.HasCost))
            {
                var group = (key.Model, key.KeyId, key.Team);
                totals[group] = totals.GetValueOrDefault(group) + Volatile.Read(ref spend.CostNanoUsd);
            }
        }

        foreach (var ((model, keyId, team), nano) in totals)
        {
            yield return new Measurement<double>(nano * 1e-9,
                new KeyValuePair<string, object?>("gen_ai.request.model", model),
                new KeyValuePair<string, object?>("llmproxy.key.id", keyId),
                new KeyValuePair<string, object?>("llmproxy.team", team));
        }
    }

    private sealed class Spend
    {
        public long Input;
        public long Output;
        public long CachedInput;
        public long Reasoning;
        public long CostNanoUsd;
        public bool HasCost;
    }

    private readonly record struct SpendKey(string Model, string KeyId, string Team, bool Estimated)
    {
        public KeyValuePair<string, object?>[] Tags(string tokenType) =>
        [
            new("gen_ai.request.model", Model),
            new("llmproxy.key.id", KeyId),
            new("llmproxy.team", Team),
            new("gen_ai.token.type", tokenType),
            new("llmproxy.usage.estimated", Estimated),
        ];
    }
}
