using System.Collections;
using System.Globalization;
using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using Json.Schema;
using LlmProxy.Configuration;

namespace LlmProxy.Tests.Configuration;

/// <summary>
/// Checks <c>config/llmproxy.schema.json</c>: the shipped config is valid, invalid configs are rejected (by the
/// schema and by the gateway alike), and the schema cannot drift apart from the C# config records.
/// </summary>
public sealed class ConfigSchemaTests
{
    private const string SchemaRelativePath = "config/llmproxy.schema.json";

    /// <summary>A small config that is valid for both the schema and the gateway; the theories patch it.</summary>
    private const string MinimalConfig = """
        {
          "server": { "max_request_body_bytes": 1048576, "upstream_timeout_seconds": 60, "simulator_port": 0 },
          "auth": { "mode": "keys" },
          "providers": {
            "sim": { "type": "simulated", "simulation": { "ttft_ms": 0, "inter_token_ms": 0, "error_rate": 0.5 } },
            "oai": { "type": "openai", "api_key": "env:OPENAI_API_KEY", "optional": true },
            "az": {
              "type": "azure-openai",
              "base_url": "https://example.openai.azure.com",
              "api_key": "env:AZURE_OPENAI_API_KEY",
              "api_version": "2024-10-21",
              "optional": true
            },
            "local": { "type": "openai-compatible", "base_url": "http://localhost:11434/v1" }
          },
          "models": {
            "chat": { "targets": [ { "provider": "sim", "model": "chat", "weight": 1 } ], "aliases": [ "c" ] }
          },
          "keys": [
            { "id": "k1", "name": "Test", "hash": "sha256:c6de1acacd799db7e8a088fc33e5680ac0aea0020af092b2fee8c0ac50b264cf", "models": [ "*" ] }
          ]
        }
        """;

    private static readonly JsonDocumentOptions DocumentOptions = new()
    {
        CommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = true,
    };

    private static readonly JsonSerializerOptions SnakeCase = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
    };

    private static readonly Lazy<string> RepositoryRoot = new(FindRepositoryRoot);

    private static readonly Lazy<JsonObject> SchemaDocument = new(
        () => (JsonObject)JsonNode.Parse(File.ReadAllText(RepositoryPath(SchemaRelativePath)))!);

    private static readonly Lazy<JsonSchema> Schema = new(
        () => JsonSchema.FromText(
            File.ReadAllText(RepositoryPath(SchemaRelativePath)),
            new BuildOptions { Dialect = Dialect.Draft202012, SchemaRegistry = new SchemaRegistry() }));

    /// <summary>Every record type reachable from <see cref="GatewayConfig"/> through its properties.</summary>
    public static TheoryData<Type> RecordTypes
    {
        get
        {
            var data = new TheoryData<Type>();
            foreach (var type in ReachableRecordTypes())
            {
                data.Add(type);
            }

            return data;
        }
    }

    [Fact]
    public void Evaluate_SchemaAgainstDraft202012MetaSchema_IsValid()
    {
        using var document = JsonDocument.Parse(File.ReadAllText(RepositoryPath(SchemaRelativePath)));

        var result = MetaSchemas.Draft202012.Evaluate(document.RootElement, ListOutput());

        Assert.True(result.IsValid, Describe(result));
        Assert.Equal("https://json-schema.org/draft/2020-12/schema", SchemaDocument.Value["$schema"]?.GetValue<string>());
    }

    [Fact]
    public void Evaluate_RepositoryConfig_IsValid()
    {
        var config = ParseJsonc(File.ReadAllText(RepositoryPath(ConfigFile.DefaultRelativePath)));

        var result = Evaluate(config);

        Assert.True(result.IsValid, Describe(result));
    }

    [Fact]
    public void SchemaReference_RepositoryConfig_PointsToSchemaFile()
    {
        var config = ParseJsonc(File.ReadAllText(RepositoryPath(ConfigFile.DefaultRelativePath)));
        var reference = config["$schema"]?.GetValue<string>();

        Assert.NotNull(reference);
        Assert.Equal("./llmproxy.schema.json", reference);
        var configFolder = Path.GetDirectoryName(RepositoryPath(ConfigFile.DefaultRelativePath))!;
        Assert.Equal(RepositoryPath(SchemaRelativePath), Path.GetFullPath(Path.Combine(configFolder, reference)));
    }

    [Fact]
    public void Parse_RepositoryConfig_PassesConfigValidator()
    {
        var text = File.ReadAllText(RepositoryPath(ConfigFile.DefaultRelativePath));

        var config = ConfigFile.Parse(text, out var error);

        Assert.Null(error);
        Assert.NotNull(config);
        Assert.Empty(ConfigValidator.Validate(config));
    }

    [Fact]
    public void Evaluate_MinimalConfig_IsAcceptedBySchemaAndGateway()
    {
        var config = ParseJsonc(MinimalConfig);

        var result = Evaluate(config);

        Assert.True(result.IsValid, Describe(result));
        Assert.Empty(GatewayErrors(config));
    }

    [Theory]
    [InlineData("auth none needs no keys", """{ "/auth/mode": "none", "/keys": null }""")]
    [InlineData("auth none may still list keys", """{ "/auth/mode": "none" }""")]
    [InlineData("empty server and auth objects take the defaults", """{ "/server": {}, "/auth": {} }""")]
    [InlineData("sections with defaults may be left out", """{ "/server": null, "/auth": null }""")]
    [InlineData("editor hint", """{ "/$schema": "./llmproxy.schema.json" }""")]
    [InlineData("file reference", """{ "/providers/oai/api_key": "file:/run/secrets/openai" }""")]
    [InlineData("openai with explicit base_url", """{ "/providers/oai/base_url": "https://api.openai.com/v1" }""")]
    [InlineData("openai-compatible with a credential", """{ "/providers/local/api_key": "env:LOCAL_LLM_API_KEY" }""")]
    [InlineData("azure v1 form", """{ "/providers/az/api_version": "v1" }""")]
    [InlineData("simulated without simulation settings", """{ "/providers/sim/simulation": null }""")]
    [InlineData("simulated marked optional", """{ "/providers/sim/optional": true }""")]
    [InlineData("all simulation settings", """{ "/providers/sim/simulation": { "ttft_ms": 10, "inter_token_ms": 1, "error_rate": 1, "error_status": 429, "retry_after_seconds": 0, "default_max_tokens": 100000, "embedding_dimensions": 3072 } }""")]
    [InlineData("target with only a provider", """{ "/models/chat/targets/0": { "provider": "sim" } }""")]
    [InlineData("a weight-0 target next to a weighted one", """{ "/models/chat/targets/1": { "provider": "oai", "model": "gpt-4o-mini", "weight": 0 } }""")]
    [InlineData("per-model timeout", """{ "/models/chat/timeout_seconds": 0.5 }""")]
    [InlineData("latency strategy over two tiers", """{ "/models/chat/strategy": "latency", "/models/chat/targets/1": { "provider": "local", "model": "chat", "priority": 1 } }""")]
    [InlineData("round_robin strategy", """{ "/models/chat/strategy": "round_robin" }""")]
    [InlineData("least_in_flight strategy", """{ "/models/chat/strategy": "least_in_flight" }""")]
    [InlineData("model without aliases", """{ "/models/chat/aliases": null }""")]
    [InlineData("key listing a model and an alias", """{ "/keys/0/models": [ "chat", "c" ], "/keys/0/name": null }""")]
    [InlineData("upper-case hex in a hash", """{ "/keys/0/hash": "sha256:C6DE1ACACD799DB7E8A088FC33E5680AC0AEA0020AF092B2FEE8C0AC50B264CF" }""")]
    [InlineData("highest simulator port", """{ "/server/simulator_port": 65535 }""")]
    [InlineData("every health setting", """{ "/models/chat/health": { "failures_to_open": 5, "throttles_to_open": 1, "cooldown_seconds": 0.5, "max_cooldown_seconds": 0.5 } }""")]
    [InlineData("empty health object takes the defaults", """{ "/models/chat/health": {} }""")]
    public void Evaluate_ValidVariant_IsAcceptedBySchemaAndGateway(string description, string patch)
    {
        var config = Patch(ParseJsonc(MinimalConfig), patch);

        var result = Evaluate(config);

        Assert.True(result.IsValid, $"{description}: {Describe(result)}");
        Assert.Empty(GatewayErrors(config));
    }

    [Theory]
    [InlineData("unknown provider type", """{ "/providers/sim/type": "anthropic" }""")]
    [InlineData("provider without type", """{ "/providers/local/type": null }""")]
    [InlineData("literal secret in api_key", """{ "/providers/oai/api_key": "sk-proj-0123456789abcdef" }""")]
    [InlineData("empty env reference", """{ "/providers/oai/api_key": "env:" }""")]
    [InlineData("bad hash", """{ "/keys/0/hash": "sha256:xyz" }""")]
    [InlineData("hash without prefix", """{ "/keys/0/hash": "c6de1acacd799db7e8a088fc33e5680ac0aea0020af092b2fee8c0ac50b264cf" }""")]
    [InlineData("plain key instead of hash", """{ "/keys/0/hash": "sk-llmproxy-demo" }""")]
    [InlineData("error_rate 2", """{ "/providers/sim/simulation/error_rate": 2 }""")]
    [InlineData("negative error_rate", """{ "/providers/sim/simulation/error_rate": -0.1 }""")]
    [InlineData("error_status not an error", """{ "/providers/sim/simulation/error_status": 200 }""")]
    [InlineData("error_status above 599", """{ "/providers/sim/simulation/error_status": 600 }""")]
    [InlineData("negative ttft_ms", """{ "/providers/sim/simulation/ttft_ms": -1 }""")]
    [InlineData("negative inter_token_ms", """{ "/providers/sim/simulation/inter_token_ms": -1 }""")]
    [InlineData("negative retry_after_seconds", """{ "/providers/sim/simulation/retry_after_seconds": -1 }""")]
    [InlineData("default_max_tokens 0", """{ "/providers/sim/simulation/default_max_tokens": 0 }""")]
    [InlineData("embedding_dimensions too large", """{ "/providers/sim/simulation/embedding_dimensions": 8193 }""")]
    [InlineData("unknown property on a provider", """{ "/providers/sim/colour": "red" }""")]
    [InlineData("unknown property at the root", """{ "/routes": {} }""")]
    [InlineData("unknown simulation property", """{ "/providers/sim/simulation/jitter_ms": 5 }""")]
    [InlineData("unknown target property", """{ "/models/chat/targets/0/tier": 1 }""")]
    [InlineData("unknown strategy", """{ "/models/chat/strategy": "fastest" }""")]
    [InlineData("strategy in another spelling", """{ "/models/chat/strategy": "round-robin" }""")]
    [InlineData("negative priority", """{ "/models/chat/targets/0/priority": -1 }""")]
    [InlineData("fractional priority", """{ "/models/chat/targets/0/priority": 0.5 }""")]
    [InlineData("unknown key property", """{ "/keys/0/key": "sk-llmproxy-demo" }""")]
    [InlineData("target without provider", """{ "/models/chat/targets/0/provider": null }""")]
    [InlineData("model without targets", """{ "/models/chat/targets": null }""")]
    [InlineData("empty target list", """{ "/models/chat/targets": [] }""")]
    [InlineData("every target at weight 0", """{ "/models/chat/targets/0/weight": 0 }""")]
    [InlineData("negative weight", """{ "/models/chat/targets/0/weight": -1 }""")]
    [InlineData("fractional weight", """{ "/models/chat/targets/0/weight": 1.5 }""")]
    [InlineData("empty upstream model name", """{ "/models/chat/targets/0/model": "" }""")]
    [InlineData("zero model timeout", """{ "/models/chat/timeout_seconds": 0 }""")]
    [InlineData("repeated alias", """{ "/models/chat/aliases": [ "c", "c" ] }""")]
    [InlineData("empty alias", """{ "/models/chat/aliases": [ " " ] }""")]
    [InlineData("azure without api_version", """{ "/providers/az/api_version": null }""")]
    [InlineData("azure without base_url", """{ "/providers/az/base_url": null }""")]
    [InlineData("azure without api_key", """{ "/providers/az/api_key": null }""")]
    [InlineData("openai without api_key", """{ "/providers/oai/api_key": null }""")]
    [InlineData("openai-compatible without base_url", """{ "/providers/local/base_url": null }""")]
    [InlineData("simulated with base_url", """{ "/providers/sim/base_url": "http://localhost:9000" }""")]
    [InlineData("simulated with api_key", """{ "/providers/sim/api_key": "env:SIM_KEY" }""")]
    [InlineData("simulated with api_version", """{ "/providers/sim/api_version": "v1" }""")]
    [InlineData("simulation on a real provider", """{ "/providers/oai/simulation": {} }""")]
    [InlineData("api_version on openai", """{ "/providers/oai/api_version": "2024-10-21" }""")]
    [InlineData("api_version on openai-compatible", """{ "/providers/local/api_version": "v1" }""")]
    [InlineData("base_url not http", """{ "/providers/local/base_url": "ftp://localhost/v1" }""")]
    [InlineData("base_url with a query", """{ "/providers/local/base_url": "http://localhost:11434/v1?key=1" }""")]
    [InlineData("relative base_url", """{ "/providers/local/base_url": "localhost:11434/v1" }""")]
    [InlineData("provider name with a space", """{ "/providers/my provider": { "type": "simulated" } }""")]
    [InlineData("no providers", """{ "/providers": {} }""")]
    [InlineData("providers missing", """{ "/providers": null }""")]
    [InlineData("no models", """{ "/models": {} }""")]
    [InlineData("models missing", """{ "/models": null }""")]
    [InlineData("auth keys without keys", """{ "/keys": [] }""")]
    [InlineData("keys missing while auth defaults to keys", """{ "/auth": null, "/keys": null }""")]
    [InlineData("unknown auth mode", """{ "/auth/mode": "basic" }""")]
    [InlineData("key id with a space", """{ "/keys/0/id": "my key" }""")]
    [InlineData("key without id", """{ "/keys/0/id": null }""")]
    [InlineData("key without hash", """{ "/keys/0/hash": null }""")]
    [InlineData("key without models", """{ "/keys/0/models": null }""")]
    [InlineData("key with an empty model list", """{ "/keys/0/models": [] }""")]
    [InlineData("simulator_port out of range", """{ "/server/simulator_port": 70000 }""")]
    [InlineData("negative simulator_port", """{ "/server/simulator_port": -1 }""")]
    [InlineData("zero max_request_body_bytes", """{ "/server/max_request_body_bytes": 0 }""")]
    [InlineData("zero upstream timeout", """{ "/server/upstream_timeout_seconds": 0 }""")]
    [InlineData("string where a number belongs", """{ "/server/upstream_timeout_seconds": "600" }""")]
    [InlineData("optional as a string", """{ "/providers/oai/optional": "yes" }""")]
    [InlineData("server as a string", """{ "/server": "" }""")]
    [InlineData("failures_to_open 0", """{ "/models/chat/health": { "failures_to_open": 0 } }""")]
    [InlineData("throttles_to_open above the maximum", """{ "/models/chat/health": { "throttles_to_open": 1001 } }""")]
    [InlineData("zero cooldown", """{ "/models/chat/health": { "cooldown_seconds": 0 } }""")]
    [InlineData("max_cooldown_seconds above a day", """{ "/models/chat/health": { "max_cooldown_seconds": 86401 } }""")]
    [InlineData("unknown health property", """{ "/models/chat/health": { "probe_count": 2 } }""")]
    public void Evaluate_InvalidConfig_IsRejectedBySchemaAndGateway(string description, string patch)
    {
        var config = Patch(ParseJsonc(MinimalConfig), patch);

        var result = Evaluate(config);

        Assert.False(result.IsValid, $"the schema accepts a config with {description}");
        Assert.NotEmpty(GatewayErrors(config));
    }

    [Theory]
    [MemberData(nameof(RecordTypes))]
    public void SchemaProperties_ConfigRecord_MatchRecordPropertiesBothWays(Type recordType)
    {
        var schema = RecordSchemas()[recordType];
        var expected = SettableProperties(recordType).Select(JsonName).Order(StringComparer.Ordinal).ToList();

        var properties = schema["properties"] as JsonObject;

        Assert.NotNull(properties);
        var actual = properties.Select(p => p.Key).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(expected, actual);
        Assert.False(schema["additionalProperties"]?.GetValue<bool>() ?? true, $"{recordType.Name}: additionalProperties must be false");
        Assert.Equal("object", schema["type"]?.GetValue<string>());
        foreach (var required in (schema["required"] as JsonArray ?? []).Select(r => r!.GetValue<string>()))
        {
            Assert.Contains(required, expected);
        }
    }

    [Theory]
    [MemberData(nameof(RecordTypes))]
    public void SchemaProperties_ConfigRecord_HaveDescriptionTypeAndRecordDefaults(Type recordType)
    {
        var schema = RecordSchemas()[recordType];
        var properties = (JsonObject)schema["properties"]!;
        var required = (schema["required"] as JsonArray ?? []).Select(r => r!.GetValue<string>()).ToHashSet(StringComparer.Ordinal);
        var defaults = Activator.CreateInstance(recordType)!;

        foreach (var property in SettableProperties(recordType))
        {
            var name = JsonName(property);
            var declared = properties[name] as JsonObject;
            Assert.NotNull(declared);
            var resolved = Resolve(declared);
            var where = $"{recordType.Name}.{property.Name} ({name})";

            var description = (declared["description"] ?? resolved["description"])?.GetValue<string>();
            Assert.False(string.IsNullOrWhiteSpace(description), $"{where}: no description");
            Assert.Equal(JsonType(property.PropertyType), resolved["type"]?.GetValue<string>());
            if ((Nullable.GetUnderlyingType(property.PropertyType) ?? property.PropertyType) is { IsEnum: true } enumType)
            {
                Assert.Equal(JsonNames(enumType), (resolved["enum"] as JsonArray)?.Select(v => v!.GetValue<string>()));
            }

            var value = property.GetValue(defaults);
            var defaultNode = value is null ? null : JsonSerializer.SerializeToNode(value, property.PropertyType, SnakeCase);
            if (resolved.TryGetPropertyValue("default", out var schemaDefault))
            {
                Assert.True(JsonNode.DeepEquals(defaultNode, schemaDefault), $"{where}: schema default {schemaDefault?.ToJsonString()} but the record's default is {defaultNode?.ToJsonString() ?? "null"}");
            }
            else
            {
                var needsDefault = !required.Contains(name) && defaultNode is JsonValue;
                Assert.False(needsDefault, $"{where}: the record defaults to {defaultNode?.ToJsonString()}; the schema needs that 'default'");
            }
        }
    }

    [Fact]
    public void RecordTypes_GatewayConfigGraph_IncludesEveryConfigRecord()
    {
        Type[] expected =
        [
            typeof(GatewayConfig), typeof(ServerSettings), typeof(AuthSettings), typeof(ProviderConfig),
            typeof(SimulationSettings), typeof(ModelConfig), typeof(TargetConfig), typeof(VirtualKeyConfig),
            typeof(TelemetrySettings), typeof(PriceConfig), typeof(LimitsConfig), typeof(TeamConfig), typeof(RateLimitSettings),
            typeof(TokenWeights), typeof(RedisSettings), typeof(StructuredOutputSettings), typeof(RetryConfig), typeof(HealthConfig),
        ];

        var reachable = ReachableRecordTypes();

        Assert.Equal(expected.OrderBy(t => t.Name, StringComparer.Ordinal), reachable.OrderBy(t => t.Name, StringComparer.Ordinal));
        Assert.Equal(reachable.Count, RecordSchemas().Count);
    }

    [Fact]
    public void SchemaEnums_ProviderTypeAndAuthMode_MatchConstants()
    {
        var definitions = (JsonObject)SchemaDocument.Value["$defs"]!;

        var providerTypes = ((JsonArray)definitions["provider"]!["properties"]!["type"]!["enum"]!).Select(v => v!.GetValue<string>());
        var authModes = ((JsonArray)definitions["auth"]!["properties"]!["mode"]!["enum"]!).Select(v => v!.GetValue<string>());

        Assert.Equal(ProviderTypes.All, providerTypes);
        Assert.Equal(JsonNames(typeof(AuthMode)), authModes);
    }

    private static EvaluationResults Evaluate(JsonNode config)
        => Schema.Value.Evaluate(JsonSerializer.SerializeToElement(config), ListOutput());

    private static EvaluationOptions ListOutput() => new() { OutputFormat = OutputFormat.List };

    /// <summary>The errors that made the evaluation fail (not those of an <c>if</c> or of a passing alternative).</summary>
    private static string Describe(EvaluationResults result)
    {
        var lines = (result.Details ?? []).Prepend(result)
            .Where(d => d.Errors is { Count: > 0 } && !d.EvaluationPath.ToString().Contains("/if/", StringComparison.Ordinal) && FailsUpToRoot(d))
            .SelectMany(d => d.Errors!.Select(e => $"{d.InstanceLocation} ({d.EvaluationPath}) {e.Key}: {e.Value}"));
        return string.Join(Environment.NewLine, lines);

        static bool FailsUpToRoot(EvaluationResults? node)
        {
            for (; node is not null; node = node.Parent)
            {
                if (node.IsValid)
                {
                    return false;
                }
            }

            return true;
        }
    }

    /// <summary>Errors the gateway itself reports for the config text (parse errors first, then validation).</summary>
    private static List<string> GatewayErrors(JsonNode config)
    {
        var parsed = ConfigFile.Parse(config.ToJsonString(), out var error);
        return parsed is null ? [error ?? "parse failed"] : ConfigValidator.Validate(parsed);
    }

    private static JsonNode ParseJsonc(string text) => JsonNode.Parse(text, documentOptions: DocumentOptions)!;

    /// <summary>Applies <c>{ "/json/pointer": value }</c> pairs; a null value removes the member.</summary>
    private static JsonNode Patch(JsonNode config, string patch)
    {
        foreach (var (pointer, value) in (JsonObject)JsonNode.Parse(patch)!)
        {
            var segments = pointer.Split('/')[1..].Select(s => s.Replace("~1", "/", StringComparison.Ordinal).Replace("~0", "~", StringComparison.Ordinal)).ToArray();
            var parent = config;
            foreach (var segment in segments[..^1])
            {
                parent = parent is JsonArray array ? array[int.Parse(segment, CultureInfo.InvariantCulture)] : parent[segment];
                Assert.NotNull(parent);
            }

            var last = segments[^1];
            if (parent is JsonArray list)
            {
                var index = int.Parse(last, CultureInfo.InvariantCulture);
                if (value is null)
                {
                    list.RemoveAt(index);
                }
                else if (index == list.Count)
                {
                    list.Add(value.DeepClone());
                }
                else
                {
                    list[index] = value.DeepClone();
                }
            }
            else
            {
                var members = (JsonObject)parent;
                if (value is null)
                {
                    Assert.True(members.Remove(last), $"{pointer}: nothing to remove");
                }
                else
                {
                    members[last] = value.DeepClone();
                }
            }
        }

        return config;
    }

    /// <summary>The schema object for each config record, found by following the records' properties from the root.</summary>
    private static Dictionary<Type, JsonObject> RecordSchemas()
    {
        var found = new Dictionary<Type, JsonObject>();
        Visit(typeof(GatewayConfig), SchemaDocument.Value);
        return found;

        void Visit(Type type, JsonObject schema)
        {
            if (!found.TryAdd(type, schema))
            {
                return;
            }

            foreach (var property in SettableProperties(type))
            {
                if (schema["properties"]?[JsonName(property)] is not JsonObject declared)
                {
                    continue;
                }

                var resolved = Resolve(declared);
                var propertyType = property.PropertyType;
                if (IsRecord(propertyType))
                {
                    Visit(propertyType, resolved);
                }
                else if (propertyType.IsGenericType && propertyType.GetGenericTypeDefinition() == typeof(List<>)
                    && IsRecord(propertyType.GetGenericArguments()[0]) && resolved["items"] is JsonObject items)
                {
                    Visit(propertyType.GetGenericArguments()[0], Resolve(items));
                }
                else if (propertyType.IsGenericType && propertyType.GetGenericTypeDefinition() == typeof(Dictionary<,>)
                    && IsRecord(propertyType.GetGenericArguments()[1]) && resolved["additionalProperties"] is JsonObject values)
                {
                    Visit(propertyType.GetGenericArguments()[1], Resolve(values));
                }
            }
        }
    }

    private static List<Type> ReachableRecordTypes()
    {
        var found = new List<Type>();
        var pending = new Queue<Type>([typeof(GatewayConfig)]);
        while (pending.TryDequeue(out var type))
        {
            if (found.Contains(type))
            {
                continue;
            }

            found.Add(type);
            foreach (var property in SettableProperties(type))
            {
                var propertyType = Nullable.GetUnderlyingType(property.PropertyType) ?? property.PropertyType;
                var candidates = propertyType.IsGenericType ? propertyType.GetGenericArguments() : [propertyType];
                foreach (var candidate in candidates.Where(IsRecord))
                {
                    pending.Enqueue(candidate);
                }
            }
        }

        return found;
    }

    private static bool IsRecord(Type type)
        => type.Namespace == typeof(GatewayConfig).Namespace && type.IsClass && type.GetMethod("<Clone>$") is not null;

    private static IEnumerable<PropertyInfo> SettableProperties(Type type)
        => type.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.SetMethod is { IsPublic: true });

    private static string JsonName(PropertyInfo property)
        => property.GetCustomAttribute<JsonPropertyNameAttribute>()?.Name ?? JsonNamingPolicy.SnakeCaseLower.ConvertName(property.Name);

    private static string JsonType(Type type)
    {
        type = Nullable.GetUnderlyingType(type) ?? type;
        if (type == typeof(string) || type.IsEnum)
        {
            return "string";
        }

        if (type == typeof(bool))
        {
            return "boolean";
        }

        if (type == typeof(int) || type == typeof(long))
        {
            return "integer";
        }

        if (type == typeof(double) || type == typeof(decimal))
        {
            return "number";
        }

        if (type.IsGenericType && type.GetGenericTypeDefinition() == typeof(Dictionary<,>))
        {
            return "object";
        }

        if (typeof(IEnumerable).IsAssignableFrom(type))
        {
            return "array";
        }

        return IsRecord(type) ? "object" : throw new InvalidOperationException($"no JSON type known for {type}");
    }

    /// <summary>The JSON names of an enum's values, in declaration order.</summary>
    private static List<string> JsonNames(Type enumType)
        => Enum.GetValues(enumType).Cast<object>().Select(v => JsonSerializer.SerializeToNode(v, enumType)!.GetValue<string>()).ToList();

    /// <summary>Follows a local <c>$ref</c> (<c>#/$defs/name</c>) to its target.</summary>
    private static JsonObject Resolve(JsonObject schema)
    {
        if (schema["$ref"]?.GetValue<string>() is not { } reference)
        {
            return schema;
        }

        Assert.StartsWith("#/", reference);
        JsonNode? target = SchemaDocument.Value;
        foreach (var segment in reference[2..].Split('/'))
        {
            target = target?[segment.Replace("~1", "/", StringComparison.Ordinal).Replace("~0", "~", StringComparison.Ordinal)];
        }

        return Assert.IsType<JsonObject>(target);
    }

    private static string RepositoryPath(string relativePath) => Path.GetFullPath(Path.Combine(RepositoryRoot.Value, relativePath));

    private static string FindRepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "LlmProxy.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException($"LlmProxy.sln not found above {AppContext.BaseDirectory}");
    }
}
