using System.Collections.Concurrent;
using LlmProxy.Auth;
using LlmProxy.Configuration;

namespace LlmProxy.RateLimiting;

/// <summary>
/// The limits of one config snapshot, compiled once: rules per key, team, model and key × model, and the combined
/// plan per (key, model) pair, built on first use and cached for the snapshot's life.
/// </summary>
public sealed class LimitPlans
{
    private readonly Dictionary<string, LimitRule[]> _keys = new(StringComparer.Ordinal);
    private readonly Dictionary<string, LimitRule[]> _teams = new(StringComparer.Ordinal);
    private readonly Dictionary<string, LimitRule[]> _models = new(StringComparer.Ordinal);
    private readonly Dictionary<(string Key, string Model), LimitRule[]> _keyModels = [];
    private readonly ConcurrentDictionary<(string Key, string Model), LimitPlan> _plans = new();

    /// <summary>Compiles the limits of a validated config (model names already resolved to canonical ones by <paramref name="canonical"/>).</summary>
    public LimitPlans(GatewayConfig config, Func<string, string?> canonical)
    {
        var prefix = "{" + config.Redis.KeyPrefix + "}";
        foreach (var key in config.Keys)
        {
            Add(_keys, key.Id, Compile(key.Limits, "key", key.Id, $"{prefix}:key:{key.Id}"));
            foreach (var (model, limits) in key.ModelLimits)
            {
                if (canonical(model) is { } name)
                {
                    var rules = Compile(limits, "key_model", $"{key.Id}/{name}", $"{prefix}:key_model:{key.Id}:{name}");
                    if (rules.Length > 0)
                    {
                        _keyModels[(key.Id, name)] = rules;
                    }
                }
            }
        }

        foreach (var (team, settings) in config.Teams)
        {
            Add(_teams, team, Compile(settings.Limits, "team", team, $"{prefix}:team:{team}"));
        }

        foreach (var (model, settings) in config.Models)
        {
            Add(_models, model, Compile(settings.Limits, "model", model, $"{prefix}:model:{model}"));
        }

        Settings = config.RateLimits;
        Any = _keys.Count + _teams.Count + _models.Count + _keyModels.Count > 0;
    }

    /// <summary>How tokens are counted.</summary>
    public RateLimitSettings Settings { get; }

    /// <summary>True when any limit is configured.</summary>
    public bool Any { get; }

    /// <summary>The plan of a key on a (canonical) model.</summary>
    public LimitPlan For(VirtualKey key, string model)
    {
        if (!Any)
        {
            return LimitPlan.Empty;
        }

        return _plans.TryGetValue((key.Id, model), out var plan) ? plan : _plans.GetOrAdd((key.Id, model), Build(key, model));
    }

    private LimitPlan Build(VirtualKey key, string model)
    {
        var rules = new List<LimitRule>();
        if (!ReferenceEquals(key, VirtualKey.Anonymous))
        {
            rules.AddRange(_keys.GetValueOrDefault(key.Id, []));
            rules.AddRange(_keyModels.GetValueOrDefault((key.Id, model), []));
            if (key.Team is { } team)
            {
                rules.AddRange(_teams.GetValueOrDefault(team, []));
            }
        }

        rules.AddRange(_models.GetValueOrDefault(model, []));
        return rules.Count == 0 ? LimitPlan.Empty : new LimitPlan([.. rules]);
    }

    private static void Add(Dictionary<string, LimitRule[]> table, string name, LimitRule[] rules)
    {
        if (rules.Length > 0)
        {
            table[name] = rules;
        }
    }

    private static LimitRule[] Compile(LimitsConfig? limits, string scope, string name, string keyBase)
    {
        if (limits is null)
        {
            return [];
        }

        var rules = new List<LimitRule>();
        void Bucket(LimitKind kind, long? limit, TimeSpan window, string suffix)
        {
            if (limit is { } value)
            {
                rules.Add(new LimitRule(kind, scope, name, value, window, $"{keyBase}:{suffix}"));
            }
        }

        Bucket(LimitKind.Requests, limits.RequestsPerSecond, TimeSpan.FromSeconds(1), "requests:second");
        Bucket(LimitKind.Requests, limits.RequestsPerMinute, TimeSpan.FromMinutes(1), "requests:minute");
        Bucket(LimitKind.Requests, limits.RequestsPerHour, TimeSpan.FromHours(1), "requests:hour");
        Bucket(LimitKind.Requests, limits.RequestsPerDay, TimeSpan.FromDays(1), "requests:day");
        Bucket(LimitKind.Tokens, limits.TokensPerSecond, TimeSpan.FromSeconds(1), "tokens:second");
        Bucket(LimitKind.Tokens, limits.TokensPerMinute, TimeSpan.FromMinutes(1), "tokens:minute");
        Bucket(LimitKind.Tokens, limits.TokensPerHour, TimeSpan.FromHours(1), "tokens:hour");
        Bucket(LimitKind.Tokens, limits.TokensPerDay, TimeSpan.FromDays(1), "tokens:day");
        if (limits.Concurrent is { } concurrent)
        {
            rules.Add(new LimitRule(LimitKind.Concurrency, scope, name, concurrent, TimeSpan.Zero, $"{keyBase}:concurrent"));
        }

        return [.. rules];
    }
}
