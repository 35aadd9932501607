using System.Net;
using LlmProxy.IntegrationTests.Infrastructure;
using WireMock.Server;

namespace LlmProxy.IntegrationTests.RateLimiting;

/// <summary>Redis stopped, started late or back again: the configured policy, no hang, automatic recovery.</summary>
public sealed class RedisOutageTests : IAsyncLifetime
{
    private static readonly TimeSpan NoHang = TimeSpan.FromSeconds(5);
    private readonly WireMockServer _upstream = LimitTestConfig.StartCompletionUpstream();
    private RedisServer _redis = null!;

    public async Task InitializeAsync()
    {
        _redis = await RedisServer.StartAsync();
    }

    public async Task DisposeAsync()
    {
        _upstream.Stop();
        await _redis.DisposeAsync();
    }

    [Fact]
    public async Task FailOpen_RedisStopsThenReturns_CountsLocallyPerReplicaThenSharesAgain()
    {
        var config = LimitTestConfig.With(_upstream.Url + "/v1", new() { ["requests_per_day"] = 6 }, _redis.ConnectionString, "fail-open", replicas: 3);
        await using var app = GatewayApp.Start(config.ToJsonString());
        await app.WaitUntilReadyIsAsync();
        using var client = app.CreateClient();
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(client));

        await _redis.StopAsync();

        // Locally each of the 3 replicas may admit 6 / 3 = 2.
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(client));
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(client));
        using (var refused = await client.PostJsonAsync("/v1/chat/completions", LimitTestConfig.ChatRequest).WaitAsync(NoHang))
        {
            // The local refusal carries this replica's share and what is left of it.
            Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
            Assert.Equal("2", refused.Headers.GetValues("x-ratelimit-limit-requests").Single());
            Assert.Equal("0", refused.Headers.GetValues("x-ratelimit-remaining-requests").Single());
        }

        Assert.Contains(app.Logs.GetSnapshot(), static r => r.Id.Id == 4004 && r.Message.Contains("fail-open", StringComparison.Ordinal));
        using (var ready = await app.CreateClient(key: null).GetAsync("/health/ready"))
        {
            Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
            Assert.Equal("Degraded", await ready.Content.ReadAsStringAsync());
        }

        await _redis.StartAgainAsync();
        await app.WaitUntilReadyIsAsync("Healthy");
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(client));
        // Shared again: a fresh Redis (no persistence) holds the new count.
        Assert.Equal(1, await _redis.BucketUsedAsync("{llmproxy}:key:alpha:requests:day"));
    }

    [Fact]
    public async Task FailClosed_RedisStopped_503WithoutWaitingAndNotReady()
    {
        var config = LimitTestConfig.With(_upstream.Url + "/v1", new() { ["requests_per_minute"] = 100 }, _redis.ConnectionString, "fail-closed");
        await using var app = GatewayApp.Start(config.ToJsonString());
        await app.WaitUntilReadyIsAsync();
        using var client = app.CreateClient();
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(client));

        await _redis.StopAsync();
        using var refused = await client.PostJsonAsync("/v1/chat/completions", LimitTestConfig.ChatRequest).WaitAsync(NoHang);

        await OpenAIError.AssertAsync(refused, 503, "server_error", "rate_limit_unavailable");
        using var ready = await app.CreateClient(key: null).GetAsync("/health/ready");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
        Assert.Single(_upstream.LogEntries);
    }

    [Fact]
    public async Task Start_RedisDown_StartsReadyAndAdmitsByPolicy()
    {
        var config = LimitTestConfig.With(_upstream.Url + "/v1", new() { ["requests_per_minute"] = 100 }, $"127.0.0.1:{RedisServer.FreePort()}");

        await using var app = GatewayApp.Start(config.ToJsonString());
        using var client = app.CreateClient();

        Assert.Equal(HttpStatusCode.OK, await StatusAsync(client));
        using var ready = await app.CreateClient(key: null).GetAsync("/health/ready");
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
    }

    [Fact]
    public async Task FailOpen_RequestAboveThisReplicasShare_TooLargeAndNoRetry()
    {
        // Redis is unreachable; 4 replicas share 400 tokens a minute, so this one may admit 100 and the request needs 108.
        var config = LimitTestConfig.With(_upstream.Url + "/v1", new() { ["tokens_per_minute"] = 400 }, $"127.0.0.1:{RedisServer.FreePort()}", "fail-open", replicas: 4);
        await using var app = GatewayApp.Start(config.ToJsonString());
        using var client = app.CreateClient();

        using var response = await client.PostJsonAsync("/v1/chat/completions", LimitTestConfig.ChatRequest).WaitAsync(NoHang);

        var error = await OpenAIError.AssertAsync(response, 429, "tokens", "rate_limit_exceeded");
        Assert.StartsWith("Request too large for test-model on tokens per min (TPM) for key alpha: Limit 100, Requested 108.", error.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Equal("false", response.Headers.GetValues("x-should-retry").Single());
    }

    private static async Task<HttpStatusCode> StatusAsync(HttpClient client)
    {
        using var response = await client.PostJsonAsync("/v1/chat/completions", LimitTestConfig.ChatRequest).WaitAsync(NoHang);
        return response.StatusCode;
    }
}
