using System.Net;
using LlmProxy.IntegrationTests.Infrastructure;
using LlmProxy.RateLimiting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using WireMock.Server;

namespace LlmProxy.IntegrationTests.RateLimiting;

/// <summary>Request limits shared by replicas through a real redis-server.</summary>
public sealed class DistributedLimitTests : IAsyncLifetime
{
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
    public async Task Admit_200ConcurrentThroughTwoGatewaysLimit50_AdmitsExactly50()
    {
        // Per day: the bucket refills one request every 28.8 minutes, so Redis's own clock adds nothing during the test.
        var config = LimitTestConfig.With(_upstream.Url + "/v1", new() { ["requests_per_day"] = 50 }, _redis.ConnectionString).ToJsonString();
        await using var first = GatewayApp.Start(config);
        await using var second = GatewayApp.Start(config);
        await first.WaitUntilReadyIsAsync();
        await second.WaitUntilReadyIsAsync();
        using var firstClient = first.CreateClient();
        using var secondClient = second.CreateClient();

        var sends = Enumerable.Range(0, 200).Select(async i =>
        {
            using var response = await (i % 2 == 0 ? firstClient : secondClient).PostJsonAsync("/v1/chat/completions", LimitTestConfig.ChatRequest);
            return response.StatusCode;
        });
        var statuses = await Task.WhenAll(sends);

        Assert.Equal(50, statuses.Count(static s => s == HttpStatusCode.OK));
        Assert.Equal(150, statuses.Count(static s => s == HttpStatusCode.TooManyRequests));
        Assert.Equal(50, _upstream.LogEntries.Count());
    }

    [Fact]
    public async Task Admit_BucketEmptyThenTimeAdvances_RefillsAtTheLimitsRate()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var config = LimitTestConfig.With(_upstream.Url + "/v1", new() { ["requests_per_minute"] = 2 }, _redis.ConnectionString).ToJsonString();
        await using var app = GatewayApp.Start(config, services => services.AddSingleton<RateLimitClock>(new FakeRateLimitClock(time)));
        await app.WaitUntilReadyIsAsync();
        using var client = app.CreateClient();

        Assert.Equal(HttpStatusCode.OK, await StatusAsync(client));
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(client));
        using var refused = await client.PostJsonAsync("/v1/chat/completions", LimitTestConfig.ChatRequest);
        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        // One request comes back every 30 s: the refusal says so, in seconds and in milliseconds.
        Assert.Equal("30", refused.Headers.RetryAfter!.Delta!.Value.TotalSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal("30000", refused.Headers.GetValues("retry-after-ms").Single());

        time.Advance(TimeSpan.FromSeconds(29));
        Assert.Equal(HttpStatusCode.TooManyRequests, await StatusAsync(client));
        time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(client));
        Assert.Equal(HttpStatusCode.TooManyRequests, await StatusAsync(client));
    }

    [Fact]
    public async Task Admit_ModelLimitExhausted_ReservesNothingOnTheKey()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var config = LimitTestConfig.With(_upstream.Url + "/v1", new() { ["requests_per_minute"] = 10 }, _redis.ConnectionString);
        config["models"]!["test-model"]!["limits"] = new System.Text.Json.Nodes.JsonObject { ["requests_per_minute"] = 1 };
        await using var app = GatewayApp.Start(config.ToJsonString(), services => services.AddSingleton<RateLimitClock>(new FakeRateLimitClock(time)));
        await app.WaitUntilReadyIsAsync();
        using var client = app.CreateClient();

        using var admitted = await client.PostJsonAsync("/v1/chat/completions", LimitTestConfig.ChatRequest);
        // The headers show the tightest limit: the model's, now empty.
        Assert.Equal("0", admitted.Headers.GetValues("x-ratelimit-remaining-requests").Single());
        Assert.Equal("1", admitted.Headers.GetValues("x-ratelimit-limit-requests").Single());
        for (var i = 0; i < 5; i++)
        {
            Assert.Equal(HttpStatusCode.TooManyRequests, await StatusAsync(client));
        }

        // The key's bucket was charged once: five refusals by the model limit took nothing from it.
        var used = await _redis.BucketUsedAsync("{llmproxy}:key:alpha:requests:minute");
        Assert.Equal(1, used);
        using var other = await client.PostJsonAsync("/v1/chat/completions", """{"model":"other-model","messages":[]}""");
        Assert.Equal(HttpStatusCode.OK, other.StatusCode);
        Assert.Equal("8", other.Headers.GetValues("x-ratelimit-remaining-requests").Single());
    }

    private static async Task<HttpStatusCode> StatusAsync(HttpClient client)
    {
        using var response = await client.PostJsonAsync("/v1/chat/completions", LimitTestConfig.ChatRequest);
        return response.StatusCode;
    }
}
