namespace LlmProxy.Configuration;

/// <summary>Checks of teams, limits, rate-limit settings and Redis.</summary>
public static partial class ConfigValidator
{
    /// <summary>Largest allowed request or token limit.</summary>
    public const long MaxLimit = 1_000_000_000_000;

    private static void ValidateLimits(GatewayConfig config, List<string> errors)
    {
        foreach (var (name, team) in config.Teams)
        {
            if (!NamePattern().IsMatch(name))
            {
                errors.Add($"teams.{name}: team names may contain only letters, digits, '.', '_' and '-'");
            }

            if (team is null)
            {
                errors.Add($"teams.{name}: must be an object");
                continue;
            }

            ValidateLimitValues($"teams.{name}.limits", team.Limits, errors);
        }

        foreach (var (name, model) in config.Models)
        {
            ValidateLimitValues($"models.{name}.limits", model?.Limits, errors);
        }

        for (var i = 0; i < config.Keys.Count; i++)
        {
            var key = config.Keys[i];
            if (key is null)
            {
                continue;
            }

            // A team without an entry in teams simply has no shared limits.
            ValidateLimitValues($"keys[{i}].limits", key.Limits, errors);

            foreach (var (model, limits) in key.ModelLimits)
            {
                if (!IsPublicName(config, model))
                {
                    errors.Add($"keys[{i}].model_limits.{model}: unknown model '{model}'");
                }

                ValidateLimitValues($"keys[{i}].model_limits.{model}", limits, errors);
            }
        }

        var rateLimits = config.RateLimits;
        if (rateLimits.DefaultMaxTokens is < 1 or > 10_000_000)
        {
            errors.Add("rate_limits.default_max_tokens: must be between 1 and 10000000");
        }

        if (rateLimits.SettleIntervalMs is < 0 or > 10_000)
        {
            errors.Add("rate_limits.settle_interval_ms: must be between 0 and 10000");
        }

        var weights = rateLimits.TokenWeights;
        ValidateWeight("rate_limits.token_weights.input", weights.Input, errors);
        ValidateWeight("rate_limits.token_weights.cached_input", weights.CachedInput, errors);
        ValidateWeight("rate_limits.token_weights.output", weights.Output, errors);

        var redis = config.Redis;
        if (redis.Connection is { } connection && string.IsNullOrWhiteSpace(connection))
        {
            errors.Add("redis.connection: must not be empty (leave it out to keep limits in memory)");
        }

        if (redis.TimeoutMs is < 1 or > 10_000)
        {
            errors.Add("redis.timeout_ms: must be between 1 and 10000");
        }

        if (redis.Replicas is < 1 or > 10_000)
        {
            errors.Add("redis.replicas: must be between 1 and 10000");
        }

        if (!NamePattern().IsMatch(redis.KeyPrefix) || redis.KeyPrefix.Length > 64)
        {
            errors.Add("redis.key_prefix: 1 to 64 letters, digits, '.', '_' and '-'");
        }

        foreach (var (name, model) in config.Models)
        {
            ValidateStructuredOutput($"models.{name}.structured_output", model?.StructuredOutput, errors);
        }

        for (var i = 0; i < config.Keys.Count; i++)
        {
            ValidateStructuredOutput($"keys[{i}].structured_output", config.Keys[i]?.StructuredOutput, errors);
        }

        if (!config.Telemetry.Metering && UsesTokenLimits(config))
        {
            errors.Add("telemetry.metering: token limits settle on metered usage; metering cannot be off while a tokens_per_* limit is set");
        }
    }

    private static void ValidateStructuredOutput(string path, StructuredOutputSettings? settings, List<string> errors)
    {
        if (settings is null)
        {
            return;
        }

        if (settings.MaxAttempts is < 2 or > 5)
        {
            errors.Add($"{path}.max_attempts: must be between 2 and 5");
        }
    }

    private static void ValidateLimitValues(string path, LimitsConfig? limits, List<string> errors)
    {
        if (limits is null)
        {
            return;
        }

        ValidateLimit($"{path}.requests_per_second", limits.RequestsPerSecond, errors);
        ValidateLimit($"{path}.requests_per_minute", limits.RequestsPerMinute, errors);
        ValidateLimit($"{path}.requests_per_hour", limits.RequestsPerHour, errors);
        ValidateLimit($"{path}.requests_per_day", limits.RequestsPerDay, errors);
        ValidateLimit($"{path}.tokens_per_second", limits.TokensPerSecond, errors);
        ValidateLimit($"{path}.tokens_per_minute", limits.TokensPerMinute, errors);
        ValidateLimit($"{path}.tokens_per_hour", limits.TokensPerHour, errors);
        ValidateLimit($"{path}.tokens_per_day", limits.TokensPerDay, errors);
        if (limits.Concurrent is < 1 or > 1_000_000)
        {
            errors.Add($"{path}.concurrent: must be between 1 and 1000000");
        }
    }

    private static void ValidateLimit(string path, long? value, List<string> errors)
    {
        if (value is < 1 or > MaxLimit)
        {
            errors.Add($"{path}: must be between 1 and {MaxLimit}");
        }
    }

    private static void ValidateWeight(string path, double value, List<string> errors)
    {
        if (double.IsNaN(value) || value is < 0 or > 1000)
        {
            errors.Add($"{path}: must be between 0 and 1000");
        }
    }

    private static bool UsesTokenLimits(GatewayConfig config)
    {
        static bool Tokens(LimitsConfig? l) => l is not null && (l.TokensPerSecond ?? l.TokensPerMinute ?? l.TokensPerHour ?? l.TokensPerDay) is not null;

        return config.Teams.Values.Any(t => Tokens(t?.Limits))
            || config.Models.Values.Any(m => Tokens(m?.Limits))
            || config.Keys.Any(k => k is not null && (Tokens(k.Limits) || k.ModelLimits.Values.Any(Tokens)));
    }
}
