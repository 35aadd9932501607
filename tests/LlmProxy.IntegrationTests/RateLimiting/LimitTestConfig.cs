using System.Text.Json.Nodes;
using LlmProxy.IntegrationTests.Infrastructure;

namespace LlmProxy.IntegrationTests.RateLimiting;

/// <summary>Route configs with limits for the rate-limit tests.</summary>
internal static class LimitTestConfig
{
    /// <summary>The single-model config with <paramref name="keyLimits"/> on key alpha and, when given, Redis.</summary>
    public static JsonObject With(string upstreamUrl, JsonObject keyLimits, string? redis = null, string onFailure = "fail-open", int replicas = 1)
    {
        var config = TestConfig.SingleModel(upstreamUrl);
        config["keys"]![0]!["limits"] = keyLimits;
        // Settle each request at once, so a test can see a settlement right after the usage record arrives.
        config["rate_limits"] = new JsonObject { ["settle_interval_ms"] = 0 };
        if (redis is not null)
        {
            config["redis"] = new JsonObject { ["connection"] = redis, ["on_failure"] = onFailure, ["timeout_ms"] = 300, ["replicas"] = replicas };
        }

        return config;
    }

    /// <summary>A chat completion with usage, as OpenAI sends it.</summary>
    public static string Completion(int promptTokens = 20, int completionTokens = 30)
        => $$$"""{"id":"chatcmpl-1","object":"chat.completion","model":"upstream-model","choices":[{"index":0,"message":{"role":"assistant","content":"ok"},"finish_reason":"stop"}],"usage":{"prompt_tokens":{{{promptTokens}}},"completion_tokens":{{{completionTokens}}},"total_tokens":{{{promptTokens + completionTokens}}}}}""";

    /// <summary>A WireMock provider that answers every POST with <see cref="Completion"/>.</summary>
    public static WireMock.Server.WireMockServer StartCompletionUpstream()
    {
        var upstream = WireMock.Server.WireMockServer.Start();
        upstream.Given(WireMock.RequestBuilders.Request.Create().UsingPost()).RespondWith(WireMock.ResponseBuilders.Response.Create().WithStatusCode(200)
            .WithHeader("Content-Type", "application/json").WithBody(Completion()));
        return upstream;
    }

    /// <summary>A small chat request.</summary>
    public const string ChatRequest = """{"model":"test-model","messages":[{"role":"user","content":"hello"}],"max_tokens":100}""";
}
