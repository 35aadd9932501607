using System.Diagnostics.Metrics;
using System.Net;
using LlmProxy.IntegrationTests.Infrastructure;
using LlmProxy.Telemetry;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;
using WireMock.Server;

namespace LlmProxy.IntegrationTests.RateLimiting;

/// <summary>Limits without Redis (one replica, in memory), and the gateway's headers over the provider's.</summary>
public sealed class MemoryLimitTests : IDisposable
{
    private readonly WireMockServer _upstream = WireMockServer.Start();

    public MemoryLimitTests()
    {
        _upstream.Given(Request.Create().UsingPost()).RespondWith(Response.Create().WithStatusCode(200)
            .WithHeader("Content-Type", "application/json")
            .WithHeader("x-ratelimit-limit-requests", "10000").WithHeader("x-ratelimit-remaining-requests", "9999")
            .WithHeader("anthropic-ratelimit-requests-remaining", "9998")
            .WithBody(LimitTestConfig.Completion()));
    }

    public void Dispose() => _upstream.Stop();

    [Fact]
    public async Task Admit_NoRedis_LimitsHoldInMemoryAndReplaceProviderHeaders()
    {
        await using var app = GatewayApp.Start(LimitTestConfig.With(_upstream.Url + "/v1", new() { ["requests_per_hour"] = 3 }).ToJsonString());
        using var decisions = new MetricCollector<long>(app.Services.GetRequiredService<IMeterFactory>(), LlmProxyMetrics.MeterName, "llmproxy.rate_limit.decisions");
        using var client = app.CreateClient();

        for (var i = 2; i >= 0; i--)
        {
            using var admitted = await client.PostJsonAsync("/v1/chat/completions", LimitTestConfig.ChatRequest);
            Assert.Equal(HttpStatusCode.OK, admitted.StatusCode);
            Assert.Equal("3", admitted.Headers.GetValues("x-ratelimit-limit-requests").Single());
            Assert.Equal(i.ToString(System.Globalization.CultureInfo.InvariantCulture), admitted.Headers.GetValues("x-ratelimit-remaining-requests").Single());
            // Full again after (3 - remaining) × 20 minutes; the first answer is exact, later ones a few ms less.
            Assert.Matches(i == 2 ? "^20m0s$" : "^[0-9]+m[0-9.]+s$", admitted.Headers.GetValues("x-ratelimit-reset-requests").Single());
            // Anthropic's own rate-limit headers describe the gateway's provider account too.
            Assert.False(admitted.Headers.Contains("anthropic-ratelimit-requests-remaining"));
        }

        using var refused = await client.PostJsonAsync("/v1/chat/completions", LimitTestConfig.ChatRequest);
        var error = await OpenAIError.AssertAsync(refused, 429, "requests", "rate_limit_exceeded");
        Assert.StartsWith("Rate limit reached for test-model on requests per hour (RPH) for key alpha: Limit 3, Used 3, Requested 1.", error.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Equal(3, _upstream.LogEntries.Count());
        var measurements = decisions.GetMeasurementSnapshot();
        Assert.Equal(3, measurements.Count(static m => (string?)m.Tags["decision"] == "admitted"));
        var rejected = Assert.Single(measurements, static m => (string?)m.Tags["decision"] == "rejected");
        Assert.Equal("key", rejected.Tags["scope"]);
        Assert.Equal("requests", rejected.Tags["limit"]);
    }

    [Fact]
    public async Task Admit_KeyWithoutLimits_NoHeadersAddedAndProviderHeadersPassThrough()
    {
        await using var app = TestConfig.SingleModel(_upstream.Url + "/v1").Start();
        using var client = app.CreateClient();

        using var response = await client.PostJsonAsync("/v1/chat/completions", LimitTestConfig.ChatRequest);

        Assert.Equal("9999", response.Headers.GetValues("x-ratelimit-remaining-requests").Single());
        Assert.Equal("9998", response.Headers.GetValues("anthropic-ratelimit-requests-remaining").Single());
        Assert.False(response.Headers.Contains("x-ratelimit-limit-tokens"));
    }
}
