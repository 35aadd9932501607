using System.Collections.Frozen;
using LlmProxy.Auth;
using LlmProxy.Providers;

namespace LlmProxy.Configuration;

/// <summary>
/// Turns a validated config into a <see cref="GatewaySnapshot"/>: resolves credentials, drops optional providers
/// whose credential is missing (and the targets and models left without a provider), and builds the lookups.
/// </summary>
internal sealed class SnapshotBuilder
{
    /// <summary>Time allowed for a whole client request when the model sets none.</summary>
    public const double DefaultDeadlineSeconds = 900;

    /// <summary>Time allowed for connecting to a provider when the model sets none.</summary>
    public const double DefaultConnectTimeoutSeconds = 10;

    private readonly ProviderAdapters _adapters;
    private readonly TimeProvider _time;

    /// <summary>Creates a builder.</summary>
    public SnapshotBuilder(ProviderAdapters adapters, TimeProvider time)
    {
        _adapters = adapters;
        _time = time;
    }

    /// <summary>Validates and builds. Never throws for a bad config: the errors are returned.</summary>
    public ConfigBuildResult Build(GatewayConfig config, long revision, PricingConfig? pricing = null)
    {
        var errors = ConfigValidator.Validate(config);
        if (pricing is not null)
        {
            ConfigValidator.ValidatePricing(pricing, errors);
        }

        if (errors.Count > 0)
        {
            return ConfigBuildResult.Failed(errors);
        }

        var warnings = new List<string>();
        var providers = new Dictionary<string, ProviderRuntime>(StringComparer.Ordinal);
        foreach (var (name, provider) in config.Providers)
        {
            string? credential = null;
            if (provider.ApiKey is not null)
            {
                credential = SecretReference.TryResolve(provider.ApiKey, out var missing);
                if (credential is null)
                {
                    if (provider.Optional)
                    {
                        warnings.Add($"providers.{name}: disabled because {missing} (the provider is optional)");
                        continue;
                    }

                    errors.Add($"providers.{name}.api_key: {missing}");
                    continue;
                }
            }

            if (credential is { Length: > 0 and < CredentialRedactor.MinimumLength })
            {
                warnings.Add($"providers.{name}.api_key: shorter than {CredentialRedactor.MinimumLength} characters, so it is taken for a placeholder "
                    + "(such as 'unused' for a local server) and not redacted from answers: redacting it would garble ordinary text");
            }

            var adapter = _adapters.Get(provider.Type);
            providers[name] = new ProviderRuntime
            {
                Name = name,
                Type = provider.Type,
                Address = adapter.GetAddress(name, provider, config),
                Credential = credential,
                ApiVersion = provider.Type == ProviderTypes.Anthropic ? provider.AnthropicVersion ?? Providers.Anthropic.AnthropicConfigRules.DefaultVersion : provider.ApiVersion,
                DefaultMaxTokens = provider.Type == ProviderTypes.Anthropic ? provider.DefaultMaxTokens ?? Providers.Anthropic.AnthropicConfigRules.DefaultMaxTokens : null,
                // Anthropic streams always report usage: there is nothing to ask for.
                InjectStreamUsage = provider.Type != ProviderTypes.Anthropic
                    && (provider.InjectStreamUsage ?? (provider.Type != ProviderTypes.AzureOpenAI || Providers.AzureOpenAI.AzureOpenAIConfigRules.AcceptsStreamOptions(provider))),
                Simulation = provider.Type == ProviderTypes.Simulated ? provider.Simulation ?? new SimulationSettings() : null,
                Prefill = provider.Prefill ?? provider.Type is ProviderTypes.Anthropic or ProviderTypes.OpenAICompatible or ProviderTypes.Simulated,
                ConnectTimeout = provider.ConnectTimeoutSeconds is { } connect ? TimeSpan.FromSeconds(connect) : null,
                FirstByteTimeout = provider.FirstByteTimeoutSeconds is { } firstByte ? TimeSpan.FromSeconds(firstByte) : null,
                Adapter = adapter,
            };
        }

        var redisConnection = config.Redis.Connection;
        if (redisConnection is not null && SecretReference.IsReference(redisConnection))
        {
            redisConnection = SecretReference.TryResolve(redisConnection, out var missing);
            if (redisConnection is null)
            {
                errors.Add($"redis.connection: {missing}");
            }
        }

        if (errors.Count > 0)
        {
            return ConfigBuildResult.Failed(errors);
        }

        var created = _time.GetUtcNow().ToUnixTimeSeconds();
        var models = new Dictionary<string, ModelRoute>(StringComparer.Ordinal);
        var modelList = new List<ModelRoute>();
        var targets = new Dictionary<string, ModelTarget>(StringComparer.Ordinal);
        foreach (var (name, model) in config.Models)
        {
            var enabled = new List<ModelTarget>();
            for (var i = 0; i < model.Targets.Count; i++)
            {
                var target = model.Targets[i];
                if (target.Weight == 0 || !providers.TryGetValue(target.Provider, out var runtime))
                {
                    continue;
                }

                // The id names provider and address: a request that began under an older snapshot can only
                // match a target whose credential belongs to the address YARP sends it to.
                var upstreamModel = target.Model ?? name;
                var modelTarget = new ModelTarget($"{name}#{i}:{runtime.Name}@{runtime.Address}", runtime, upstreamModel, target.Weight, PriceOf(target, runtime, upstreamModel, pricing))
                {
                    DefaultMaxTokens = model.DefaultMaxTokens ?? runtime.DefaultMaxTokens,
                    Priority = target.Priority,
                };
                enabled.Add(modelTarget);
                targets[modelTarget.DestinationId] = modelTarget;
            }

            if (enabled.Count == 0)
            {
                warnings.Add($"models.{name}: not served because none of its providers is enabled");
                continue;
            }

            var route = new ModelRoute
            {
                Name = name,
                ClusterId = "model:" + name,
                Targets = [.. enabled],
                Strategy = model.Strategy,
                Tiered = enabled.Exists(t => t.Priority != enabled[0].Priority),
                TracksLatency = model.Strategy == BalancingStrategy.Latency && enabled.Count > 1,
                Aliases = [.. model.Aliases],
                Timeout = TimeSpan.FromSeconds(model.TimeoutSeconds ?? config.Server.UpstreamTimeoutSeconds),
                // One connection pool per model: its providers' connect timeouts meet at the shortest.
                ConnectTimeout = model.ConnectTimeoutSeconds is { } connectTimeout ? TimeSpan.FromSeconds(connectTimeout)
                    : enabled.Select(static t => t.Provider.ConnectTimeout).Where(static t => t is not null).Min() ?? TimeSpan.FromSeconds(DefaultConnectTimeoutSeconds),
                Failover = new Failover.FailoverPlan
                {
                    MaxAttempts = model.Retry.MaxAttempts,
                    Backoff = TimeSpan.FromMilliseconds(model.Retry.BackoffMs),
                    MaxBackoff = TimeSpan.FromMilliseconds(model.Retry.MaxBackoffMs),
                    FirstByteTimeout = model.FirstByteTimeoutSeconds is { } firstByte ? TimeSpan.FromSeconds(firstByte) : null,
                    ShortestProviderFirstByteTimeout = enabled.Select(static t => t.Provider.FirstByteTimeout).Where(static t => t is not null).Min(),
                    FirstTokenTimeout = model.FirstTokenTimeoutSeconds is { } firstToken ? TimeSpan.FromSeconds(firstToken) : null,
                    Deadline = TimeSpan.FromSeconds(model.DeadlineSeconds ?? DefaultDeadlineSeconds),
                    Fallbacks = [.. model.Fallbacks],
                    ContextWindowFallbacks = [.. model.ContextWindowFallbacks],
                    Health = Failover.HealthPolicy.Of(model.Health),
                },
                Created = created,
            };
            models[name] = route;
            foreach (var alias in model.Aliases)
            {
                models[alias] = route;
            }

            modelList.Add(route);
        }

        if (modelList.Count == 0)
        {
            return ConfigBuildResult.Failed(["models: no model is served (every target's provider is disabled)"]);
        }

        modelList.Sort(static (a, b) => string.CompareOrdinal(a.Name, b.Name));
        return new ConfigBuildResult(
            new GatewaySnapshot
            {
                Revision = revision,
                Config = config,
                Providers = providers.ToFrozenDictionary(StringComparer.Ordinal),
                Models = models.ToFrozenDictionary(StringComparer.Ordinal),
                ModelList = [.. modelList],
                Targets = targets.ToFrozenDictionary(StringComparer.Ordinal),
                Keys = new KeyTable(BuildKeys(config, models)),
                AuthDisabled = config.Auth.Mode == AuthMode.None,
                Limits = new RateLimiting.LimitPlans(config, name => models.TryGetValue(name, out var route) ? route.Name : null),
                RedisConnection = redisConnection,
            },
            [],
            warnings);
    }

    // The target's own price, else the table's "provider/model" entry (the provider's name, then its type: "anthropic/claude-…"),
    // else its "model" entry, else unknown.
    private static PriceConfig? PriceOf(TargetConfig target, ProviderRuntime provider, string upstreamModel, PricingConfig? pricing)
    {
        if (target.Pricing is not null)
        {
            return target.Pricing;
        }

        if (pricing is null)
        {
            return null;
        }

        return pricing.Models.TryGetValue(provider.Name + "/" + upstreamModel, out var specific) ? specific
            : pricing.Models.TryGetValue(provider.Type + "/" + upstreamModel, out var byType) ? byType
            : pricing.Models.GetValueOrDefault(upstreamModel);
    }

    private static IEnumerable<VirtualKey> BuildKeys(GatewayConfig config, Dictionary<string, ModelRoute> models)
    {
        foreach (var key in config.Keys)
        {
            var allowsAll = key.Models.Contains("*");
            var allowed = new HashSet<string>(StringComparer.Ordinal);
            foreach (var model in key.Models)
            {
                // A model that is not served (provider disabled) is simply not reachable.
                if (models.TryGetValue(model, out var route))
                {
                    allowed.Add(route.Name);
                }
            }

            yield return new VirtualKey(key.Id, key.Name ?? key.Id, Convert.FromHexString(key.Hash.AsSpan(7)), allowsAll, allowed.ToFrozenSet(StringComparer.Ordinal), key.Team,
                key.StructuredOutput);
        }
    }
}
