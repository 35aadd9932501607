using System.Text.Json.Nodes;

namespace LlmProxy.IntegrationTests.Infrastructure;

/// <summary>Builds route configs for tests.</summary>
public static class TestConfig
{
    /// <summary>
    /// One provider and one model <c>test-model</c> (upstream name <c>upstream-model</c>), key Alpha may use every
    /// model and key Beta only <c>other-model</c>.
    /// </summary>
    public static JsonObject SingleModel(string baseUrl, string type = "openai-compatible", bool withKey = true, string? apiVersion = null)
    {
        var provider = new JsonObject { ["type"] = type, ["base_url"] = baseUrl };
        if (withKey)
        {
            provider["api_key"] = TestKeys.ProviderKeyReference;
        }

        if (apiVersion is not null)
        {
            provider["api_version"] = apiVersion;
        }

        return new JsonObject
        {
            ["providers"] = new JsonObject { ["up"] = provider },
            ["models"] = new JsonObject
            {
                ["test-model"] = new JsonObject
                {
                    ["targets"] = new JsonArray(new JsonObject { ["provider"] = "up", ["model"] = "upstream-model" }),
                    ["aliases"] = new JsonArray("test-alias"),
                },
                ["other-model"] = new JsonObject
                {
                    ["targets"] = new JsonArray(new JsonObject { ["provider"] = "up", ["model"] = "other-upstream" }),
                },
            },
            ["keys"] = new JsonArray(
                new JsonObject { ["id"] = "alpha", ["hash"] = TestKeys.AlphaHash, ["models"] = new JsonArray("*") },
                new JsonObject { ["id"] = "beta", ["hash"] = TestKeys.BetaHash, ["models"] = new JsonArray("other-model") }),
        };
    }

    /// <summary>A config whose only provider is the simulated one.</summary>
    public static JsonObject Simulated(JsonObject? simulation = null) => new()
    {
        ["providers"] = new JsonObject { ["sim"] = new JsonObject { ["type"] = "simulated", ["simulation"] = simulation ?? new JsonObject { ["ttft_ms"] = 0, ["inter_token_ms"] = 0 } } },
        ["models"] = new JsonObject
        {
            ["sim-chat"] = new JsonObject { ["targets"] = new JsonArray(new JsonObject { ["provider"] = "sim", ["model"] = "sim-upstream" }) },
        },
        ["keys"] = new JsonArray(new JsonObject { ["id"] = "alpha", ["hash"] = TestKeys.AlphaHash, ["models"] = new JsonArray("*") }),
    };

    /// <summary>Starts the gateway with a config object.</summary>
    public static GatewayApp Start(this JsonObject config) => GatewayApp.Start(config.ToJsonString());
}
