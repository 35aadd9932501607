using System.ClientModel;
using System.ClientModel.Primitives;
using System.Diagnostics.Metrics;
using LlmProxy.IntegrationTests.Infrastructure;
using LlmProxy.Telemetry;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using OpenAI;
using OpenAI.Chat;
using WireMock.Server;

namespace LlmProxy.IntegrationTests.RateLimiting;

/// <summary>The official OpenAI .NET SDK against limits kept in a real Redis.</summary>
public sealed class SdkRateLimitTests : IAsyncLifetime
{
    private readonly WireMockServer _upstream = LimitTestConfig.StartCompletionUpstream();
    private RedisServer _redis = null!;
    private GatewayApp _app = null!;

    public async Task InitializeAsync()
    {
        _redis = await RedisServer.StartAsync();
        _app = GatewayApp.Start(LimitTestConfig.With(_upstream.Url + "/v1", new() { ["requests_per_second"] = 1, ["tokens_per_day"] = 1_000_000 }, _redis.ConnectionString).ToJsonString());
        await _app.WaitUntilReadyIsAsync();

        // Warm the SDK and the gateway up with key beta (no limits), so each test's calls follow each other closely
        // (the limit refills one request per second).
        await new OpenAIClient(new ApiKeyCredential(TestKeys.Beta), new OpenAIClientOptions { Endpoint = new Uri(_app.BaseAddress, "v1") })
            .GetChatClient("other-model").CompleteChatAsync([new UserChatMessage("warm up")]);
    }

    public async Task DisposeAsync()
    {
        await _app.DisposeAsync();
        _upstream.Stop();
        await _redis.DisposeAsync();
    }

    [Fact]
    public async Task CompleteChat_LimitReachedNoRetries_429WithOpenAIHeadersAndMessage()
    {
        var chat = Client(retries: 0);
        var first = await chat.CompleteChatAsync([new UserChatMessage("hello")]);
        var headers = first.GetRawResponse().Headers;
        Assert.True(headers.TryGetValue("x-ratelimit-limit-requests", out var limit));
        Assert.Equal("1", limit);
        Assert.True(headers.TryGetValue("x-ratelimit-remaining-requests", out var remaining));
        Assert.Equal("0", remaining);
        Assert.True(headers.TryGetValue("x-ratelimit-reset-requests", out var reset));
        Assert.Matches("^[0-9]+ms$|^1s$", reset);
        Assert.True(headers.TryGetValue("x-ratelimit-limit-tokens", out var tokenLimit));
        Assert.Equal("1000000", tokenLimit);

        var refused = await Assert.ThrowsAsync<ClientResultException>(() => chat.CompleteChatAsync([new UserChatMessage("hello")]));

        Assert.Equal(429, refused.Status);
        Assert.Contains("Rate limit reached for test-model on requests per second (RPS) for key alpha: Limit 1, Used 1, Requested 1.", refused.Message, StringComparison.Ordinal);
        Assert.True(refused.GetRawResponse()!.Headers.TryGetValue("Retry-After", out var retryAfter));
        Assert.Equal("1", retryAfter);
    }

    [Fact]
    public async Task CompleteChat_LimitReachedDefaultRetries_SdkWaitsRetryAfterAndSucceeds()
    {
        using var decisions = new MetricCollector<long>(_app.Services.GetRequiredService<IMeterFactory>(), LlmProxyMetrics.MeterName, "llmproxy.rate_limit.decisions");
        var chat = Client(retries: 3);
        await chat.CompleteChatAsync([new UserChatMessage("hello")]);

        var second = await chat.CompleteChatAsync([new UserChatMessage("hello")]);

        Assert.Equal("ok", second.Value.Content[0].Text);
        // The second call met the limit (1 request per second), and the SDK waited for Retry-After instead of failing.
        Assert.Contains(decisions.GetMeasurementSnapshot(), static m => (string?)m.Tags["decision"] == "rejected");
        Assert.Equal(3, _upstream.LogEntries.Count());
    }

    private ChatClient Client(int retries)
    {
        var options = new OpenAIClientOptions { Endpoint = new Uri(_app.BaseAddress, "v1"), RetryPolicy = new ClientRetryPolicy(retries) };
        return new OpenAIClient(new ApiKeyCredential(TestKeys.Alpha), options).GetChatClient("test-model");
    }
}
