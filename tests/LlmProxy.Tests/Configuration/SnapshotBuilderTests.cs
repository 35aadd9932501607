using LlmProxy.Configuration;
using LlmProxy.Providers;
using LlmProxy.Providers.AzureOpenAI;
using LlmProxy.Providers.OpenAI;
using LlmProxy.Providers.OpenAICompatible;
using Microsoft.Extensions.Time.Testing;

namespace LlmProxy.Tests.Configuration;

public sealed class SnapshotBuilderTests
{
    private const string Hash = "sha256:c6de1acacd799db7e8a088fc33e5680ac0aea0020af092b2fee8c0ac50b264cf";

    internal static SnapshotBuilder Builder(TimeProvider? time = null)
        => new(new ProviderAdapters([new OpenAIAdapter(), new OpenAICompatibleAdapter(), new AzureOpenAIAdapter(), new LlmProxy.Providers.Anthropic.AnthropicAdapter()]), time ?? new FakeTimeProvider());

    internal static GatewayConfig Parse(string json)
        => ConfigFile.Parse(json, out var error) ?? throw new InvalidOperationException(error);

    [Theory]
    [InlineData("latency", "[ 0, 0 ]", false, true)]
    [InlineData("latency", "[ 0, 2 ]", true, true)]
    [InlineData("latency", "[ 1 ]", false, false)]
    [InlineData("weighted", "[ 0, 1 ]", true, false)]
    [InlineData("least_in_flight", "[ 3, 3 ]", false, false)]
    public void Build_StrategyAndPriorities_SetTiersAndLatencyTracking(string strategy, string priorities, bool tiered, bool tracksLatency)
    {
        var tiers = System.Text.Json.JsonSerializer.Deserialize<int[]>(priorities)!;
        var targets = string.Join(",", tiers.Select((p, i) => $$"""{ "provider": "local", "model": "t{{i}}", "priority": {{p}} }"""));
        var config = Parse($$"""
            {
              "providers": { "local": { "type": "openai-compatible", "base_url": "http://localhost:8000/v1" } },
              "models": { "m": { "strategy": "{{strategy}}", "targets": [ {{targets}} ] } },
              "auth": { "mode": "none" }
            }
            """);

        var model = Builder().Build(config, 1).Snapshot!.Models["m"];

        Assert.Equal(tiered, model.Tiered);
        Assert.Equal(tracksLatency, model.TracksLatency);
        Assert.Equal(tiers, model.Targets.Select(t => t.Priority));
    }

    [Fact]
    public void Build_OptionalProviderWithoutCredential_DisablesItAndItsModels()
    {
        var config = Parse($$"""
            {
              "providers": {
                "local": { "type": "openai-compatible", "base_url": "http://localhost:8000/v1" },
                "oai": { "type": "openai", "api_key": "env:LLMPROXY_UNIT_UNSET_{{Guid.NewGuid():N}}", "optional": true }
              },
              "models": {
                "a": { "targets": [ { "provider": "local" }, { "provider": "oai" } ] },
                "b": { "targets": [ { "provider": "oai" } ] }
              },
              "keys": [ { "id": "k", "hash": "{{Hash}}", "models": [ "*" ] } ]
            }
            """);

        var result = Builder().Build(config, 1);

        Assert.NotNull(result.Snapshot);
        Assert.False(result.Snapshot.Providers.ContainsKey("oai"));
        var a = Assert.Single(result.Snapshot.ModelList);
        Assert.Equal("a", a.Name);
        Assert.Equal("local", Assert.Single(a.Targets).Provider.Name);
        Assert.Contains(result.Warnings, w => w.StartsWith("providers.oai: disabled", StringComparison.Ordinal));
        Assert.Contains(result.Warnings, w => w.StartsWith("models.b: not served", StringComparison.Ordinal));
    }

    [Fact]
    public void Build_RequiredProviderWithoutCredential_FailsNamingTheVariable()
    {
        var variable = "LLMPROXY_UNIT_UNSET_" + Guid.NewGuid().ToString("N");
        var config = Parse($$"""
            {
              "providers": { "oai": { "type": "openai", "api_key": "env:{{variable}}" } },
              "models": { "a": { "targets": [ { "provider": "oai" } ] } },
              "auth": { "mode": "none" }
            }
            """);

        var result = Builder().Build(config, 1);

        Assert.Null(result.Snapshot);
        Assert.Equal($"providers.oai.api_key: environment variable {variable} is not set", Assert.Single(result.Errors));
    }

    [Fact]
    public void Build_CredentialFromFile_IsResolvedAndTrimmed()
    {
        var path = Path.GetTempFileName();
        File.WriteAllText(path, "  sk-from-file\n");
        try
        {
            var config = Parse($$"""
                {
                  "providers": { "oai": { "type": "openai", "api_key": "file:{{path}}" } },
                  "models": { "a": { "targets": [ { "provider": "oai" } ] } },
                  "auth": { "mode": "none" }
                }
                """);

            var result = Builder().Build(config, 1);

            Assert.Equal("sk-from-file", result.Snapshot!.Providers["oai"].Credential);
            Assert.Equal("https://api.openai.com/v1", result.Snapshot.Providers["oai"].Address);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Build_AliasesWeightsAndKeys_LookupsResolveToCanonicalModel()
    {
        var config = Parse($$"""
            {
              "providers": { "local": { "type": "openai-compatible", "base_url": "http://localhost:8000/v1" } },
              "models": {
                "a": { "targets": [ { "provider": "local", "model": "up-a", "weight": 3 }, { "provider": "local", "model": "drained", "weight": 0 } ], "aliases": [ "alias-a" ], "timeout_seconds": 42 },
                "b": { "targets": [ { "provider": "local" } ] }
              },
              "keys": [ { "id": "k", "name": "Key", "hash": "{{Hash}}", "models": [ "alias-a" ] } ]
            }
            """);

        var snapshot = Builder().Build(config, 7).Snapshot!;

        Assert.Equal(7, snapshot.Revision);
        Assert.Same(snapshot.Models["a"], snapshot.Models["alias-a"]);
        var target = Assert.Single(snapshot.Models["a"].Targets);
        Assert.Equal("up-a", target.UpstreamModel);
        Assert.Equal(3, target.Weight);
        Assert.Equal("\"up-a\""u8.ToArray(), target.UpstreamModelJson);
        Assert.Same(target, snapshot.Targets[target.DestinationId]);
        Assert.Equal("b", Assert.Single(snapshot.Models["b"].Targets).UpstreamModel);
        Assert.Equal(TimeSpan.FromSeconds(42), snapshot.Models["a"].Timeout);
        Assert.Equal(TimeSpan.FromSeconds(600), snapshot.Models["b"].Timeout);
        var key = snapshot.Keys.Find("sk-llmproxy-demo")!;
        Assert.True(key.MayUse("a"));
        Assert.False(key.MayUse("b"));
        Assert.False(snapshot.AuthDisabled);
    }

    [Theory]
    [InlineData("openai", null, null, true)]
    [InlineData("azure-openai", "2024-06-01", null, false)]
    [InlineData("azure-openai", "2024-10-21", null, true)]
    [InlineData("azure-openai", "v1", null, true)]
    [InlineData("openai-compatible", null, false, false)]
    [InlineData("azure-openai", "2024-02-01", true, true)]
    public void Build_StreamUsageInjection_DefaultsByProviderAndOverride(string type, string? apiVersion, bool? inject, bool expected)
    {
        var provider = new System.Text.Json.Nodes.JsonObject { ["type"] = type, ["api_key"] = "env:PATH" };
        if (type != "openai")
        {
            provider["base_url"] = "https://p.example/v1";
        }

        if (apiVersion is not null)
        {
            provider["api_version"] = apiVersion;
        }

        if (inject is not null)
        {
            provider["inject_stream_usage"] = inject;
        }

        var config = new System.Text.Json.Nodes.JsonObject
        {
            ["providers"] = new System.Text.Json.Nodes.JsonObject { ["p"] = provider },
            ["models"] = new System.Text.Json.Nodes.JsonObject { ["m"] = new System.Text.Json.Nodes.JsonObject { ["targets"] = new System.Text.Json.Nodes.JsonArray(new System.Text.Json.Nodes.JsonObject { ["provider"] = "p" }) } },
            ["auth"] = new System.Text.Json.Nodes.JsonObject { ["mode"] = "none" },
        };

        var snapshot = Builder().Build(Parse(config.ToJsonString()), 1).Snapshot!;

        Assert.Equal(expected, snapshot.Providers["p"].InjectStreamUsage);
    }

    [Fact]
    public void Build_AnthropicProvider_DefaultsAndModelMaxTokensOverride()
    {
        var json = """
            {"providers":{"a":{"type":"anthropic","api_key":"env:PATH"},"b":{"type":"anthropic","api_key":"env:PATH","base_url":"https://proxy.example/anthropic/","anthropic_version":"2024-01-01","default_max_tokens":900}},
             "models":{"m":{"targets":[{"provider":"a"}]},"n":{"targets":[{"provider":"b"}],"default_max_tokens":333}},"auth":{"mode":"none"}}
            """;

        var snapshot = Builder().Build(Parse(json), 1).Snapshot!;

        var a = snapshot.Providers["a"];
        Assert.Equal("https://api.anthropic.com", a.Address);
        Assert.Equal("2023-06-01", a.ApiVersion);
        Assert.False(a.InjectStreamUsage);
        Assert.False(a.Translator.IsIdentity);
        Assert.Equal("anthropic", a.GenAiName);
        Assert.Equal("https://proxy.example/anthropic", snapshot.Providers["b"].Address);
        Assert.Equal("2024-01-01", snapshot.Providers["b"].ApiVersion);
        Assert.Equal(4096, snapshot.Models["m"].Targets[0].DefaultMaxTokens);
        Assert.Equal(333, snapshot.Models["n"].Targets[0].DefaultMaxTokens);
    }
}
