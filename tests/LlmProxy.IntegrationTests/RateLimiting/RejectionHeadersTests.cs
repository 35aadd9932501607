using System.Net;
using LlmProxy.IntegrationTests.Infrastructure;
using LlmProxy.RateLimiting;
using LlmProxy.Telemetry;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace LlmProxy.IntegrationTests.RateLimiting;

/// <summary>
/// A 429 carries the x-ratelimit-* headers its 200s carry, as OpenAI's do, with the buckets as the rejection left
/// them, from both stores. Hourly limits: memory's own clock moves them by less than a token during a test (Redis's is
/// the test's), so only resets differ, by milliseconds.
/// </summary>
public sealed class RejectionHeadersTests : IAsyncLifetime
{
    private readonly CapturingSink _sink = new();
    private readonly FakeTimeProvider _time = new(DateTimeOffset.UtcNow);
    private RedisServer _redis = null!;
    private TestUpstream _upstream = null!;
    private int _completionTokens = 30;

    public async Task InitializeAsync()
    {
        _redis = await RedisServer.StartAsync();
        _upstream = await TestUpstream.StartAsync(async context =>
        {
            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync(LimitTestConfig.Completion(completionTokens: _completionTokens));
        });
    }

    public async Task DisposeAsync()
    {
        await _upstream.DisposeAsync();
        await _redis.DisposeAsync();
    }

    [Theory]
    [InlineData("memory")]
    [InlineData("redis")]
    public async Task Reject_RequestsUsedUp_429CarriesRequestsAtZeroAndTheTokenHeaders(string store)
    {
        await using var app = await StartAsync(store, new() { ["requests_per_hour"] = 1, ["tokens_per_hour"] = 1000 });
        using var client = app.CreateClient();
        await AdmitAsync(client);

        using var refused = await client.PostJsonAsync("/v1/chat/completions", LimitTestConfig.ChatRequest);

        await OpenAIError.AssertAsync(refused, 429, "requests", "rate_limit_exceeded");
        Assert.Equal("1", Header(refused, "x-ratelimit-limit-requests"));
        Assert.Equal("0", Header(refused, "x-ratelimit-remaining-requests"));
        Assert.Matches("^(1h0m0s|59m59(\\.[0-9]+)?s)$", Header(refused, "x-ratelimit-reset-requests"));
        // The admitted request was settled to its 50 tokens; the refused one reserved nothing.
        Assert.Equal("1000", Header(refused, "x-ratelimit-limit-tokens"));
        Assert.Equal("950", Header(refused, "x-ratelimit-remaining-tokens"));
        Assert.Matches("^(3m0s|2m59(\\.[0-9]+)?s)$", Header(refused, "x-ratelimit-reset-tokens"));
        Assert.NotNull(refused.Headers.RetryAfter);
    }

    [Theory]
    [InlineData("memory")]
    [InlineData("redis")]
    public async Task Reject_TokensShortOfTheEstimate_429CarriesTheTokensLeftAndTheRequestHeaders(string store)
    {
        await using var app = await StartAsync(store, new() { ["requests_per_hour"] = 10, ["tokens_per_hour"] = 150 });
        using var client = app.CreateClient();
        await AdmitAsync(client);

        // 100 tokens are left and the request needs 108: remaining says what is left, not 0.
        using var refused = await client.PostJsonAsync("/v1/chat/completions", LimitTestConfig.ChatRequest);

        await OpenAIError.AssertAsync(refused, 429, "tokens", "rate_limit_exceeded");
        Assert.Equal("150", Header(refused, "x-ratelimit-limit-tokens"));
        Assert.Equal("100", Header(refused, "x-ratelimit-remaining-tokens"));
        Assert.Matches("^(20m0s|19m59(\\.[0-9]+)?s)$", Header(refused, "x-ratelimit-reset-tokens"));
        Assert.Equal("10", Header(refused, "x-ratelimit-limit-requests"));
        Assert.Equal("9", Header(refused, "x-ratelimit-remaining-requests"));
        Assert.Matches("^(6m0s|5m59(\\.[0-9]+)?s)$", Header(refused, "x-ratelimit-reset-requests"));
    }

    [Theory]
    [InlineData("memory")]
    [InlineData("redis")]
    public async Task Reject_TokensUsedBeyondTheLimit_429CarriesRemainingTokensZero(string store)
    {
        await using var app = await StartAsync(store, new() { ["tokens_per_hour"] = 150 });
        using var client = app.CreateClient();
        // Reserved 108, used 20 + 200: the bucket is charged past its limit.
        _completionTokens = 200;
        await AdmitAsync(client);

        using var refused = await client.PostJsonAsync("/v1/chat/completions", LimitTestConfig.ChatRequest);

        await OpenAIError.AssertAsync(refused, 429, "tokens", "rate_limit_exceeded");
        Assert.Equal("150", Header(refused, "x-ratelimit-limit-tokens"));
        Assert.Equal("0", Header(refused, "x-ratelimit-remaining-tokens"));
        Assert.False(refused.Headers.Contains("x-ratelimit-limit-requests"));
    }

    private async Task<GatewayApp> StartAsync(string store, System.Text.Json.Nodes.JsonObject limits)
    {
        var config = LimitTestConfig.With(_upstream.Address + "/v1", limits, store == "redis" ? _redis.ConnectionString : null);
        var app = GatewayApp.Start(config.ToJsonString(), services => services
            .AddSingleton<IUsageSink>(_sink)
            .AddSingleton<RateLimitClock>(new FakeRateLimitClock(_time)));
        await app.WaitUntilReadyIsAsync();
        return app;
    }

    private async Task AdmitAsync(HttpClient client)
    {
        using (var admitted = await client.PostJsonAsync("/v1/chat/completions", LimitTestConfig.ChatRequest))
        {
            Assert.Equal(HttpStatusCode.OK, admitted.StatusCode);
        }

        await _sink.NextAsync();
    }

    private static string Header(HttpResponseMessage response, string name) => response.Headers.GetValues(name).Single();
}
