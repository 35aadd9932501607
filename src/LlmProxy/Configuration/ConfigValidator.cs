using System.Text.RegularExpressions;

namespace LlmProxy.Configuration;

/// <summary>
/// Checks a whole config and reports every problem with its path (for example
/// <c>models.gpt-4o.targets[0].provider: unknown provider 'x'</c>), without stopping at the first.
/// </summary>
public static partial class ConfigValidator
{
    /// <summary>Largest allowed <c>max_request_body_bytes</c> (1 GiB).</summary>
    public const long MaxRequestBodyBytes = 1L << 30;

    /// <summary>Largest allowed timeout, in seconds (one day).</summary>
    public const double MaxTimeoutSeconds = 86_400;

    /// <summary>Most attempts a model's retry budget may allow.</summary>
    public const int MaxAttempts = 10;

    /// <summary>Longest backoff a model may configure (ms).</summary>
    public const int MaxBackoffMs = 60_000;

    /// <summary>Largest allowed target weight.</summary>
    public const int MaxWeight = 1_000_000;

    /// <summary>Largest <c>health.failures_to_open</c> and <c>health.throttles_to_open</c>.</summary>
    public const int MaxCircuitCount = 1000;

    /// <summary>Longest <c>health.cooldown_seconds</c> and <c>health.max_cooldown_seconds</c> (one day).</summary>
    public const double MaxCooldownSeconds = 86_400;

    /// <summary>Largest allowed target priority (tier).</summary>
    public const int MaxPriority = 1_000;

    /// <summary>Returns all errors; empty when the config is valid.</summary>
    public static List<string> Validate(GatewayConfig config)
    {
        var errors = new List<string>();
        ValidateServer(config.Server, errors);
        ValidateProviders(config, errors);
        ValidateModels(config, errors);
        ValidateKeys(config, errors);
        ValidateTelemetry(config.Telemetry, errors);
        ValidateLimits(config, errors);
        return errors;
    }

    /// <summary>Checks the pricing table (paths start with <c>pricing.</c>).</summary>
    public static void ValidatePricing(PricingConfig pricing, List<string> errors)
    {
        foreach (var (name, price) in pricing.Models)
        {
            if (price is null)
            {
                errors.Add($"pricing.models.{name}: must be an object");
                continue;
            }

            ValidatePrice($"pricing.models.{name}", price, errors);
        }
    }

    private static void ValidatePrice(string path, PriceConfig price, List<string> errors)
    {
        if (price.InputPer1M is not { } input)
        {
            errors.Add($"{path}.input_per_1m: required (a missing price is unknown, not zero)");
        }
        else if (input < 0)
        {
            errors.Add($"{path}.input_per_1m: must be 0 or more");
        }

        if (price.OutputPer1M is not { } output)
        {
            errors.Add($"{path}.output_per_1m: required (a missing price is unknown, not zero)");
        }
        else if (output < 0)
        {
            errors.Add($"{path}.output_per_1m: must be 0 or more");
        }

        if (price.CachedInputPer1M < 0)
        {
            errors.Add($"{path}.cached_input_per_1m: must be 0 or more");
        }
    }

    private static void ValidateTelemetry(TelemetrySettings telemetry, List<string> errors)
    {
        if (telemetry.SummaryWindowsMinutes.Count is 0 or > 4)
        {
            errors.Add("telemetry.summary_windows_minutes: give 1 to 4 windows");
        }

        for (var i = 0; i < telemetry.SummaryWindowsMinutes.Count; i++)
        {
            if (telemetry.SummaryWindowsMinutes[i] is < 1 or > 60)
            {
                errors.Add($"telemetry.summary_windows_minutes[{i}]: must be between 1 and 60");
            }
        }
    }

    private static void ValidateServer(ServerSettings server, List<string> errors)
    {
        if (server.MaxRequestBodyBytes is <= 0 or > MaxRequestBodyBytes)
        {
            errors.Add($"server.max_request_body_bytes: must be between 1 and {MaxRequestBodyBytes} (1 GiB)");
        }

        if (server.UpstreamTimeoutSeconds is <= 0 or > MaxTimeoutSeconds || double.IsNaN(server.UpstreamTimeoutSeconds))
        {
            errors.Add($"server.upstream_timeout_seconds: must be greater than 0 and at most {MaxTimeoutSeconds}");
        }

        if (server.SimulatorPort is < 0 or > 65535)
        {
            errors.Add("server.simulator_port: must be between 0 and 65535");
        }
    }

    private static void ValidateProviders(GatewayConfig config, List<string> errors)
    {
        if (config.Providers.Count == 0)
        {
            errors.Add("providers: at least one provider is required");
        }

        foreach (var (name, provider) in config.Providers)
        {
            var path = $"providers.{name}";
            if (!NamePattern().IsMatch(name))
            {
                errors.Add($"{path}: provider names may contain only letters, digits, '.', '_' and '-'");
            }

            if (provider is null)
            {
                errors.Add($"{path}: must be an object");
                continue;
            }

            if (Array.IndexOf(ProviderTypes.All, provider.Type) < 0)
            {
                errors.Add($"{path}.type: unknown provider type '{provider.Type}' (expected one of: {string.Join(", ", ProviderTypes.All)})");
                continue;
            }

            ValidateProviderTimeouts(path, provider, errors);
            var isSimulated = provider.Type == ProviderTypes.Simulated;
            if (!isSimulated)
            {
                if (provider.Simulation is not null)
                {
                    errors.Add($"{path}.simulation: only a simulated provider takes simulation settings");
                }

                // OpenAI and Anthropic have a well-known address; the others are wherever they were deployed.
                var needsUrl = provider.Type is not (ProviderTypes.OpenAI or ProviderTypes.Anthropic);
                if (provider.BaseUrl is null)
                {
                    if (needsUrl)
                    {
                        errors.Add($"{path}.base_url: required for type '{provider.Type}'");
                    }
                }
                else if (!Uri.TryCreate(provider.BaseUrl, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps)
                    || !string.IsNullOrEmpty(uri.Query) || !string.IsNullOrEmpty(uri.Fragment))
                {
                    errors.Add($"{path}.base_url: '{provider.BaseUrl}' is not an absolute http(s) URL without query");
                }
            }

            if (provider.ApiKey is not null)
            {
                if (!isSimulated && !SecretReference.IsReference(provider.ApiKey))
                {
                    // Never echo the value: it may be a pasted secret.
                    errors.Add($"{path}.api_key: must be a reference 'env:NAME' or 'file:/path', never the secret itself");
                }
            }
            else if (provider.Type is ProviderTypes.OpenAI or ProviderTypes.AzureOpenAI or ProviderTypes.Anthropic)
            {
                errors.Add($"{path}.api_key: required for type '{provider.Type}' (env:NAME or file:/path)");
            }

            if (provider.ApiVersion is not null && provider.Type != ProviderTypes.AzureOpenAI)
            {
                errors.Add($"{path}.api_version: only an azure-openai provider takes api_version");
            }

            if (provider.Type != ProviderTypes.Anthropic)
            {
                if (provider.AnthropicVersion is not null)
                {
                    errors.Add($"{path}.anthropic_version: only an anthropic provider takes anthropic_version");
                }

                if (provider.DefaultMaxTokens is not null)
                {
                    errors.Add($"{path}.default_max_tokens: only an anthropic provider takes default_max_tokens (OpenAI-shaped providers need none)");
                }
            }

            // The rules of one provider type live with that provider.
            switch (provider.Type)
            {
                case ProviderTypes.AzureOpenAI:
                    Providers.AzureOpenAI.AzureOpenAIConfigRules.Validate(path, provider, errors);
                    break;
                case ProviderTypes.Anthropic:
                    Providers.Anthropic.AnthropicConfigRules.Validate(path, provider, errors);
                    break;
                case ProviderTypes.Simulated:
                    Providers.Simulated.SimulatedConfigRules.Validate(path, provider, errors);
                    break;
            }
        }
    }

    private static void ValidateModels(GatewayConfig config, List<string> errors)
    {
        if (config.Models.Count == 0)
        {
            errors.Add("models: at least one model is required");
        }

        var publicNames = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var name in config.Models.Keys)
        {
            publicNames[name] = $"models.{name}";
        }

        foreach (var (name, model) in config.Models)
        {
            var path = $"models.{name}";
            if (string.IsNullOrWhiteSpace(name) || name.Length > 256)
            {
                errors.Add($"{path}: a model name must be 1 to 256 characters");
            }

            if (model is null)
            {
                errors.Add($"{path}: must be an object");
                continue;
            }

            if (model.Targets.Count == 0)
            {
                errors.Add($"{path}.targets: at least one target is required");
            }

            var totalWeight = 0L;
            for (var i = 0; i < model.Targets.Count; i++)
            {
                var target = model.Targets[i];
                var targetPath = $"{path}.targets[{i}]";
                if (target is null)
                {
                    errors.Add($"{targetPath}: must be an object");
                    continue;
                }

                if (!config.Providers.ContainsKey(target.Provider))
                {
                    errors.Add($"{targetPath}.provider: unknown provider '{target.Provider}'");
                }

                if (target.Model is not null && string.IsNullOrWhiteSpace(target.Model))
                {
                    errors.Add($"{targetPath}.model: must not be empty");
                }

                if (target.Pricing is not null)
                {
                    ValidatePrice($"{targetPath}.pricing", target.Pricing, errors);
                }

                if (target.Weight is < 0 or > MaxWeight)
                {
                    errors.Add($"{targetPath}.weight: must be between 0 and {MaxWeight}");
                }

                if (target.Priority is < 0 or > MaxPriority)
                {
                    errors.Add($"{targetPath}.priority: must be between 0 and {MaxPriority}");
                }

                totalWeight += Math.Max(0, target.Weight);
            }

            if (model.Targets.Count > 0 && totalWeight == 0)
            {
                errors.Add($"{path}.targets: at least one target needs a weight above 0");
            }

            if (model.TimeoutSeconds is { } timeout && (timeout is <= 0 or > MaxTimeoutSeconds || double.IsNaN(timeout)))
            {
                errors.Add($"{path}.timeout_seconds: must be greater than 0 and at most {MaxTimeoutSeconds}");
            }

            ValidateFailover(config, name, path, model, errors);

            if (model.DefaultMaxTokens is < 1 or > Providers.Anthropic.AnthropicConfigRules.MaxDefaultMaxTokens)
            {
                errors.Add($"{path}.default_max_tokens: must be between 1 and {Providers.Anthropic.AnthropicConfigRules.MaxDefaultMaxTokens}");
            }

            for (var i = 0; i < model.Aliases.Count; i++)
            {
                var alias = model.Aliases[i];
                var aliasPath = $"{path}.aliases[{i}]";
                if (string.IsNullOrWhiteSpace(alias))
                {
                    errors.Add($"{aliasPath}: must not be empty");
                }
                else if (!publicNames.TryAdd(alias, aliasPath))
                {
                    errors.Add($"{aliasPath}: '{alias}' is already used by {publicNames[alias]}");
                }
            }
        }
    }

    private static void ValidateKeys(GatewayConfig config, List<string> errors)
    {
        var authOff = config.Auth.Mode == AuthMode.None;
        if (!authOff && config.Keys.Count == 0)
        {
            errors.Add("keys: at least one virtual key is required unless auth.mode is 'none'");
        }

        var ids = new HashSet<string>(StringComparer.Ordinal);
        var hashes = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        for (var i = 0; i < config.Keys.Count; i++)
        {
            var key = config.Keys[i];
            var path = $"keys[{i}]";
            if (key is null)
            {
                errors.Add($"{path}: must be an object");
                continue;
            }

            if (!NamePattern().IsMatch(key.Id))
            {
                errors.Add($"{path}.id: required; letters, digits, '.', '_' and '-' only");
            }
            else if (!ids.Add(key.Id))
            {
                errors.Add($"{path}.id: duplicate id '{key.Id}'");
            }

            if (key.Team is not null && !NamePattern().IsMatch(key.Team))
            {
                errors.Add($"{path}.team: letters, digits, '.', '_' and '-' only");
            }

            if (!HashPattern().IsMatch(key.Hash))
            {
                errors.Add($"{path}.hash: must be 'sha256:' followed by 64 hex digits (store the hash, never the key)");
            }
            else if (!hashes.Add(key.Hash))
            {
                errors.Add($"{path}.hash: the same key hash appears twice");
            }

            if (key.Models.Count == 0)
            {
                errors.Add($"{path}.models: list the models the key may use, or '*' for all");
            }

            for (var m = 0; m < key.Models.Count; m++)
            {
                var model = key.Models[m];
                if (string.IsNullOrWhiteSpace(model))
                {
                    errors.Add($"{path}.models[{m}]: must not be empty");
                }
                else if (model != "*" && !IsPublicName(config, model))
                {
                    errors.Add($"{path}.models[{m}]: unknown model '{model}'");
                }
            }
        }
    }

    private static bool IsPublicName(GatewayConfig config, string name)
    {
        if (config.Models.ContainsKey(name))
        {
            return true;
        }

        foreach (var model in config.Models.Values)
        {
            if (model?.Aliases.Contains(name) == true)
            {
                return true;
            }
        }

        return false;
    }

    [GeneratedRegex("^[A-Za-z0-9._-]{1,128}$")]
    private static partial Regex NamePattern();

    [GeneratedRegex("^sha256:[0-9a-fA-F]{64}$")]
    private static partial Regex HashPattern();

    // A provider's default time limits.
    internal static void ValidateProviderTimeouts(string path, ProviderConfig provider, List<string> errors)
    {
        foreach (var (value, key) in new[] { (provider.ConnectTimeoutSeconds, "connect_timeout_seconds"), (provider.FirstByteTimeoutSeconds, "first_byte_timeout_seconds") })
        {
            if (value is { } seconds && (seconds is <= 0 or > MaxTimeoutSeconds || double.IsNaN(seconds)))
            {
                errors.Add($"{path}.{key}: must be greater than 0 and at most {MaxTimeoutSeconds}");
            }
        }
    }

    // Retries, time limits and fallbacks of one model.
    private static void ValidateFailover(GatewayConfig config, string name, string path, ModelConfig model, List<string> errors)
    {
        foreach (var (value, key) in new[]
        {
            (model.ConnectTimeoutSeconds, "connect_timeout_seconds"), (model.FirstByteTimeoutSeconds, "first_byte_timeout_seconds"), (model.FirstTokenTimeoutSeconds, "first_token_timeout_seconds"), (model.DeadlineSeconds, "deadline_seconds"),
        })
        {
            if (value is { } seconds && (seconds is <= 0 or > MaxTimeoutSeconds || double.IsNaN(seconds)))
            {
                errors.Add($"{path}.{key}: must be greater than 0 and at most {MaxTimeoutSeconds}");
            }
        }

        if (model.Retry.MaxAttempts is < 1 or > MaxAttempts)
        {
            errors.Add($"{path}.retry.max_attempts: must be between 1 and {MaxAttempts}");
        }

        if (model.Retry.BackoffMs is < 0 or > MaxBackoffMs)
        {
            errors.Add($"{path}.retry.backoff_ms: must be between 0 and {MaxBackoffMs}");
        }

        if (model.Retry.MaxBackoffMs < model.Retry.BackoffMs || model.Retry.MaxBackoffMs > MaxBackoffMs)
        {
            errors.Add($"{path}.retry.max_backoff_ms: must be at least backoff_ms and at most {MaxBackoffMs}");
        }

        ValidateHealth(path, model.Health, errors);
        foreach (var (list, key) in new[] { (model.Fallbacks, "fallbacks"), (model.ContextWindowFallbacks, "context_window_fallbacks") })
        {
            for (var i = 0; i < list.Count; i++)
            {
                var fallback = list[i];
                if (fallback == name || model.Aliases.Contains(fallback))
                {
                    errors.Add($"{path}.{key}[{i}]: '{fallback}' is this model");
                }
                else if (!config.Models.ContainsKey(fallback) && !config.Models.Values.Any(other => other.Aliases.Contains(fallback)))
                {
                    errors.Add($"{path}.{key}[{i}]: no model named '{fallback}'");
                }
            }
        }
    }

    // When a model's targets are taken out of rotation.
    private static void ValidateHealth(string path, HealthConfig health, List<string> errors)
    {
        if (health.FailuresToOpen is < 1 or > MaxCircuitCount)
        {
            errors.Add($"{path}.health.failures_to_open: must be between 1 and {MaxCircuitCount}");
        }

        if (health.ThrottlesToOpen is < 1 or > MaxCircuitCount)
        {
            errors.Add($"{path}.health.throttles_to_open: must be between 1 and {MaxCircuitCount}");
        }

        if (double.IsNaN(health.CooldownSeconds) || health.CooldownSeconds is <= 0 or > MaxCooldownSeconds)
        {
            errors.Add($"{path}.health.cooldown_seconds: must be greater than 0 and at most {MaxCooldownSeconds}");
        }

        if (double.IsNaN(health.MaxCooldownSeconds) || health.MaxCooldownSeconds < health.CooldownSeconds || health.MaxCooldownSeconds > MaxCooldownSeconds)
        {
            errors.Add($"{path}.health.max_cooldown_seconds: must be at least cooldown_seconds and at most {MaxCooldownSeconds}");
        }
    }
}
