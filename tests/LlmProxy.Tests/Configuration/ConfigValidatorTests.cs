using System.Text.Json.Nodes;
using LlmProxy.Configuration;

namespace LlmProxy.Tests.Configuration;

public sealed class ConfigValidatorTests
{
    private const string Hash = "sha256:c6de1acacd799db7e8a088fc33e5680ac0aea0020af092b2fee8c0ac50b264cf";

    private static JsonObject Valid() => new()
    {
        ["providers"] = new JsonObject
        {
            ["up"] = new JsonObject { ["type"] = "openai-compatible", ["base_url"] = "http://localhost:8000/v1" },
            ["oai"] = new JsonObject { ["type"] = "openai", ["api_key"] = "env:OPENAI_API_KEY" },
        },
        ["models"] = new JsonObject
        {
            ["m"] = new JsonObject { ["targets"] = new JsonArray(new JsonObject { ["provider"] = "up" }), ["aliases"] = new JsonArray("alias") },
            ["n"] = new JsonObject { ["targets"] = new JsonArray(new JsonObject { ["provider"] = "oai", ["model"] = "gpt-4o" }) },
        },
        ["keys"] = new JsonArray(new JsonObject
        {
            ["id"] = "k", ["hash"] = Hash, ["models"] = new JsonArray("m", "alias"), ["limits"] = new JsonObject { ["tokens_per_minute"] = 1000 },
        }),
    };

    private static List<string> Validate(JsonObject config)
    {
        var parsed = ConfigFile.Parse(config.ToJsonString(), out var error);
        Assert.True(parsed is not null, error);
        return ConfigValidator.Validate(parsed);
    }

    [Fact]
    public void Validate_ValidConfig_NoErrors()
    {
        Assert.Empty(Validate(Valid()));
    }

    [Fact]
    public void Validate_AnthropicWithDefaults_NoErrors()
    {
        var config = Valid();
        config["providers"]!["an"] = new JsonObject { ["type"] = "anthropic", ["api_key"] = "env:ANTHROPIC_API_KEY" };
        config["models"]!["c"] = new JsonObject { ["targets"] = new JsonArray(new JsonObject { ["provider"] = "an", ["model"] = "claude-x" }), ["default_max_tokens"] = 2048 };

        Assert.Empty(Validate(config));
    }

    public static TheoryData<string, string, string> Breakages => new()
    {
        { "/providers/up/type", "\"vertex\"", "providers.up.type: unknown provider type 'vertex'" },
        { "/providers/up/base_url", "\"ftp://x\"", "providers.up.base_url: 'ftp://x' is not an absolute http(s) URL" },
        { "/providers/up/base_url", "\"http://x/v1?a=1\"", "providers.up.base_url:" },
        { "/providers/oai/api_key", "\"sk-live-1234\"", "providers.oai.api_key: must be a reference 'env:NAME' or 'file:/path', never the secret itself" },
        { "/providers/oai/api_key", "null", "providers.oai.api_key: required for type 'openai'" },
        { "/providers/up/api_version", "\"2024-10-21\"", "providers.up.api_version: only an azure-openai provider takes api_version" },
        { "/providers/up/anthropic_version", "\"2023-06-01\"", "providers.up.anthropic_version: only an anthropic provider takes anthropic_version" },
        { "/providers/up/default_max_tokens", "100", "providers.up.default_max_tokens: only an anthropic provider takes default_max_tokens" },
        { "/providers/an", """{"type":"anthropic"}""", "providers.an.api_key: required for type 'anthropic'" },
        { "/providers/an", """{"type":"anthropic","api_key":"env:A","anthropic_version":"latest"}""", "providers.an.anthropic_version: must be a date" },
        { "/providers/an", """{"type":"anthropic","api_key":"env:A","default_max_tokens":0}""", "providers.an.default_max_tokens: must be between 1 and" },
        { "/providers/an", """{"type":"anthropic","api_key":"env:A","inject_stream_usage":true}""", "providers.an.inject_stream_usage: not for an anthropic provider" },
        { "/models/m/default_max_tokens", "0", "models.m.default_max_tokens: must be between 1 and" },
        { "/providers/az", """{"type":"azure-openai","base_url":"https://x.openai.azure.com","api_key":"env:A"}""", "providers.az.api_version: required for type 'azure-openai'" },
        { "/providers/sim", """{"type":"simulated","base_url":"http://x"}""", "providers.sim.base_url: a simulated provider has no base_url" },
        { "/providers/sim", """{"type":"simulated","simulation":{"error_rate":1.5}}""", "providers.sim.simulation.error_rate: must be between 0 and 1" },
        { "/providers/sim", """{"type":"simulated","simulation":{"error_status":200}}""", "providers.sim.simulation.error_status: must be an HTTP error status (400-599)" },
        { "/providers/bad name", """{"type":"openai-compatible","base_url":"http://x"}""", "providers.bad name: provider names may contain only" },
        { "/models/m/targets/0/provider", "\"nope\"", "models.m.targets[0].provider: unknown provider 'nope'" },
        { "/models/m/targets/0/weight", "-2", "models.m.targets[0].weight: must be between 0 and 1000000" },
        { "/models/m/targets/0/priority", "-1", "models.m.targets[0].priority: must be between 0 and 1000" },
        { "/models/m/targets/0/priority", "1001", "models.m.targets[0].priority: must be between 0 and 1000" },
        { "/models/m/targets/0/weight", "2147483647", "models.m.targets[0].weight: must be between 0 and 1000000" },
        { "/models/m/timeout_seconds", "1e300", "models.m.timeout_seconds: must be greater than 0 and at most 86400" },
        { "/server", """{"max_request_body_bytes":9223372036854775807}""", "server.max_request_body_bytes: must be between 1 and 1073741824" },
        { "/server", """{"upstream_timeout_seconds":100000}""", "server.upstream_timeout_seconds: must be greater than 0 and at most 86400" },
        { "/providers/sim", """{"type":"simulated","simulation":{"ttft_ms":2000000000}}""", "providers.sim.simulation.ttft_ms: must be between 0 and 60000" },
        { "/models/m/targets/0/weight", "0", "models.m.targets: at least one target needs a weight above 0" },
        { "/models/m/targets", "[]", "models.m.targets: at least one target is required" },
        { "/models/m/timeout_seconds", "0", "models.m.timeout_seconds: must be greater than 0 and at most 86400" },
        { "/models/m/aliases", """["n"]""", "models.m.aliases[0]: 'n' is already used by models.n" },
        { "/models/n/aliases", """["alias"]""", "models.n.aliases[0]: 'alias' is already used by models.m.aliases[0]" },
        { "/keys/0/hash", "\"sk-plain\"", "keys[0].hash: must be 'sha256:' followed by 64 hex digits" },
        { "/keys/0/models", "[]", "keys[0].models: list the models the key may use, or '*' for all" },
        { "/keys/0/models", """["ghost"]""", "keys[0].models[0]: unknown model 'ghost'" },
        { "/keys/0/models", """[""]""", "keys[0].models[0]: must not be empty" },
        { "/keys/0/id", "\"\"", "keys[0].id: required" },
        { "/keys", "[]", "keys: at least one virtual key is required unless auth.mode is 'none'" },
        { "/server", """{"max_request_body_bytes":0}""", "server.max_request_body_bytes: must be between 1 and 1073741824" },
        { "/server", """{"simulator_port":70000}""", "server.simulator_port: must be between 0 and 65535" },
        { "/providers", "{}", "providers: at least one provider is required" },
        { "/keys/0/limits", """{"requests_per_minute":0}""", "keys[0].limits.requests_per_minute: must be between 1 and 1000000000000" },
        { "/keys/0/limits", """{"concurrent":-1}""", "keys[0].limits.concurrent: must be between 1 and 1000000" },
        { "/keys/0/model_limits", """{"ghost":{"requests_per_minute":5}}""", "keys[0].model_limits.ghost: unknown model 'ghost'" },
        { "/models/m/limits", """{"tokens_per_day":-5}""", "models.m.limits.tokens_per_day: must be between 1 and 1000000000000" },
        { "/teams", """{"bad team":{"limits":{"requests_per_minute":5}}}""", "teams.bad team: team names may contain only" },
        { "/rate_limits", """{"default_max_tokens":0}""", "rate_limits.default_max_tokens: must be between 1 and 10000000" },
        { "/rate_limits", """{"token_weights":{"output":-1}}""", "rate_limits.token_weights.output: must be between 0 and 1000" },
        { "/redis", """{"connection":"localhost","timeout_ms":0}""", "redis.timeout_ms: must be between 1 and 10000" },
        { "/redis", """{"connection":"localhost","replicas":0}""", "redis.replicas: must be between 1 and 10000" },
        { "/redis", """{"connection":" "}""", "redis.connection: must not be empty" },
        { "/telemetry", """{"metering":false}""", "telemetry.metering: token limits settle on metered usage" },
        { "/keys/0/structured_output", """{"policy":"retry","max_attempts":9}""", "keys[0].structured_output.max_attempts: must be between 2 and 5" },
        { "/models/m/retry", """{"max_attempts":0}""", "models.m.retry.max_attempts: must be between 1 and 10" },
        { "/models/m/retry", """{"backoff_ms":-1}""", "models.m.retry.backoff_ms: must be between 0 and 60000" },
        { "/models/m/retry", """{"backoff_ms":500,"max_backoff_ms":100}""", "models.m.retry.max_backoff_ms: must be at least backoff_ms" },
        { "/models/m/first_byte_timeout_seconds", "0", "models.m.first_byte_timeout_seconds: must be greater than 0" },
        { "/models/m/first_token_timeout_seconds", "-1", "models.m.first_token_timeout_seconds: must be greater than 0" },
        { "/models/m/deadline_seconds", "1e9", "models.m.deadline_seconds: must be greater than 0 and at most 86400" },
        { "/models/m/fallbacks", """["ghost"]""", "models.m.fallbacks[0]: no model named 'ghost'" },
        { "/providers/up/connect_timeout_seconds", "0", "providers.up.connect_timeout_seconds: must be greater than 0" },
        { "/providers/up/first_byte_timeout_seconds", "1e9", "providers.up.first_byte_timeout_seconds: must be greater than 0 and at most 86400" },
        { "/models/m/fallbacks", """["alias"]""", "models.m.fallbacks[0]: 'alias' is this model" },
        { "/models/m/context_window_fallbacks", """["m"]""", "models.m.context_window_fallbacks[0]: 'm' is this model" },
        { "/models/m/health", """{"failures_to_open":0}""", "models.m.health.failures_to_open: must be between 1 and 1000" },
        { "/models/m/health", """{"throttles_to_open":-1}""", "models.m.health.throttles_to_open: must be between 1 and 1000" },
        { "/models/m/health", """{"cooldown_seconds":0}""", "models.m.health.cooldown_seconds: must be greater than 0 and at most 86400" },
        { "/models/m/health", """{"cooldown_seconds":60,"max_cooldown_seconds":30}""", "models.m.health.max_cooldown_seconds: must be at least cooldown_seconds and at most 86400" },
    };

    [Theory]
    [MemberData(nameof(Breakages))]
    public void Validate_OneBreakage_ReportsItWithItsPath(string pointer, string value, string expectedStart)
    {
        var config = Valid();
        Set(config, pointer, JsonNode.Parse(value));

        var errors = Validate(config);

        Assert.Contains(errors, e => e.StartsWith(expectedStart, StringComparison.Ordinal));
    }

    /// <summary>A value outside an enum's names fails the parse, with the message and path the validator gives a bad value.</summary>
    public static TheoryData<string, string, string> BadChoices => new()
    {
        { "/auth", """{"mode":"open"}""", "auth.mode: must be 'keys' or 'none', not 'open'" },
        { "/auth", """{"mode":"Keys"}""", "auth.mode: must be 'keys' or 'none', not 'Keys'" },
        { "/auth", """{"mode":0}""", "auth.mode: must be 'keys' or 'none'" },
        { "/redis", """{"connection":"localhost","on_failure":"maybe"}""", "redis.on_failure: must be 'fail-open' or 'fail-closed', not 'maybe'" },
        { "/models/m/structured_output", """{"policy":"fix"}""", "models.m.structured_output.policy: must be 'annotate', 'reject' or 'retry', not 'fix'" },
        { "/models/gpt-4.1", """{"targets":[{"provider":"up"}],"structured_output":{"policy":"fix"}}""", "models.gpt-4.1.structured_output.policy: must be 'annotate', 'reject' or 'retry', not 'fix'" },
        { "/models/my model", """{"targets":[{"provider":"up"}],"structured_output":{"policy":"fix"}}""", "models.my model.structured_output.policy: must be 'annotate', 'reject' or 'retry', not 'fix'" },
        { "/keys/0/structured_output", """{"policy":"retry","retry_target":"other"}""", "keys[0].structured_output.retry_target: must be 'next' or 'same', not 'other'" },
        { "/keys/0/structured_output", """{"stream_mode":"hold"}""", "keys[0].structured_output.stream_mode: must be 'pass-through' or 'buffer', not 'hold'" },
        { "/models/m/strategy", "\"fastest\"", "models.m.strategy: must be 'weighted', 'round_robin', 'least_in_flight' or 'latency', not 'fastest'" },
        { "/models/m/strategy", "\"round-robin\"", "models.m.strategy: must be 'weighted', 'round_robin', 'least_in_flight' or 'latency', not 'round-robin'" },
    };

    [Theory]
    [MemberData(nameof(BadChoices))]
    public void Parse_ValueOutsideItsChoices_FailsWithTheValidatorMessage(string pointer, string value, string expected)
    {
        var config = Valid();
        Set(config, pointer, JsonNode.Parse(value));

        Assert.Null(ConfigFile.Parse(config.ToJsonString(), out var error));
        Assert.Equal(expected, error);
    }

    [Fact]
    public void Validate_SeveralBreakages_ReportsEveryOne()
    {
        var config = Valid();
        Set(config, "/providers/up/type", JsonValue.Create("vertex"));
        Set(config, "/models/n/targets/0/provider", JsonValue.Create("nope"));
        Set(config, "/keys/0/hash", JsonValue.Create("x"));

        var errors = Validate(config);

        Assert.Equal(3, errors.Count);
    }

    [Fact]
    public void Validate_AuthNoneWithoutKeys_IsValid()
    {
        var config = Valid();
        config["auth"] = new JsonObject { ["mode"] = "none" };
        config["keys"] = new JsonArray();

        Assert.Empty(Validate(config));
    }

    [Fact]
    public void Parse_UnknownProperty_FailsWithItsJsonPath()
    {
        var config = Valid();
        config["models"]!["m"]!["fallback"] = "x";

        Assert.Null(ConfigFile.Parse(config.ToJsonString(), out var error));
        Assert.StartsWith("$.models.m", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_CommentsAndTrailingCommas_Accepted()
    {
        var parsed = ConfigFile.Parse("""
            {
              // a comment
              "providers": { "up": { "type": "openai-compatible", "base_url": "http://x/v1", }, },
              "models": { "m": { "targets": [ { "provider": "up" } ] } },
              "auth": { "mode": "none" },
            }
            """, out var error);

        Assert.NotNull(parsed);
        Assert.Null(error);
    }

    private static void Set(JsonObject root, string pointer, JsonNode? value)
    {
        var parts = pointer.Trim('/').Split('/');
        JsonNode current = root;
        for (var i = 0; i < parts.Length - 1; i++)
        {
            current = current is JsonArray array ? array[int.Parse(parts[i], System.Globalization.CultureInfo.InvariantCulture)]! : current[parts[i]]!;
        }

        var last = parts[^1];
        if (current is JsonArray list)
        {
            list[int.Parse(last, System.Globalization.CultureInfo.InvariantCulture)] = value;
        }
        else if (value is null)
        {
            current.AsObject().Remove(last);
        }
        else
        {
            current[last] = value;
        }
    }
}
