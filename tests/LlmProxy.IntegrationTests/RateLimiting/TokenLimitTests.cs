using System.Net;
using LlmProxy.IntegrationTests.Infrastructure;
using LlmProxy.RateLimiting;
using LlmProxy.Telemetry;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace LlmProxy.IntegrationTests.RateLimiting;

/// <summary>
/// Token limits: reserve the estimate at admission, settle to the usage record. The settlement is queued on the
/// gateway's Redis connection before the usage sinks run, so a request sent after the record arrived sees it.
/// </summary>
public sealed class TokenLimitTests : IAsyncLifetime
{
    // {"role":"user","content":"hello"}: 3 for the reply + 3 for the message + "user" + "hello".
    private const long PromptTokens = 8;
    private const long Reserve = PromptTokens + 100;

    private readonly CapturingSink _sink = new();
    private readonly FakeTimeProvider _time = new(DateTimeOffset.UtcNow);
    private RedisServer _redis = null!;
    private TestUpstream _upstream = null!;
    private int _status = 200;
    private TaskCompletionSource _streamAborted = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public async Task InitializeAsync()
    {
        _redis = await RedisServer.StartAsync();
        _upstream = await TestUpstream.StartAsync(HandleAsync);
    }

    public async Task DisposeAsync()
    {
        await _upstream.DisposeAsync();
        await _redis.DisposeAsync();
    }

    [Fact]
    public async Task Settle_UsageBelowReservation_RefundsTheDifference()
    {
        await using var app = await StartAsync(new() { ["tokens_per_minute"] = 10_000 });
        using var client = app.CreateClient();

        Assert.Equal(10_000 - Reserve, await RemainingTokensAsync(client));
        await _sink.NextAsync();

        // The first request used 20 + 30 tokens: 58 of its 108 came back before the second was reserved.
        Assert.Equal(10_000 - 50 - Reserve, await RemainingTokensAsync(client));
    }

    [Fact]
    public async Task Settle_UpstreamFails_ReleasesTheWholeReservation()
    {
        await using var app = await StartAsync(new() { ["tokens_per_minute"] = 10_000 });
        using var client = app.CreateClient();
        _status = 500;
        using (var failed = await client.PostJsonAsync("/v1/chat/completions", LimitTestConfig.ChatRequest))
        {
            Assert.Equal(500, (int)failed.StatusCode);
        }

        await _sink.NextAsync();
        _status = 200;

        Assert.Equal(10_000 - Reserve, await RemainingTokensAsync(client));
    }

    [Fact]
    public async Task Settle_ClientLeavesMidStream_ChargesWhatWasGenerated()
    {
        await using var app = await StartAsync(new() { ["tokens_per_minute"] = 10_000 });
        using var client = app.CreateClient();
        var body = """{"model":"test-model","stream":true,"messages":[{"role":"user","content":"hello"}],"max_tokens":100}""";
        using (var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions") { Content = new StringContent(body, System.Text.Encoding.UTF8, "application/json") })
        {
            using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
            var stream = await response.Content.ReadAsStreamAsync();
            var buffer = new byte[256];
            Assert.True(await stream.ReadAsync(buffer) > 0);
        }

        await _streamAborted.Task.WaitAsync(TimeSpan.FromSeconds(20));
        var record = await _sink.NextAsync();
        Assert.Equal(ErrorCategory.ClientCancelled, record.Error);
        var charged = record.Usage!.Value.Input + record.Usage.Value.Output;
        Assert.True(record.Usage.Value.Output > 0);

        Assert.Equal(10_000 - charged - Reserve, await RemainingTokensAsync(client));
    }

    [Fact]
    public async Task Admit_EstimateAboveTheWholeLimit_RefusesForGoodWithShouldRetryFalse()
    {
        await using var app = await StartAsync(new() { ["tokens_per_minute"] = 50 });
        using var client = app.CreateClient();

        using var response = await client.PostJsonAsync("/v1/chat/completions", LimitTestConfig.ChatRequest);

        var error = await OpenAIError.AssertAsync(response, 429, "tokens", "rate_limit_exceeded");
        Assert.Equal("false", response.Headers.GetValues("x-should-retry").Single());
        Assert.Contains("Request too large for test-model on tokens per min (TPM) for key alpha: Limit 50, Requested 108", error.GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Admit_TokensUsedUp_429NamesLimitUsedAndRequested()
    {
        await using var app = await StartAsync(new() { ["tokens_per_minute"] = 150 });
        using var client = app.CreateClient();
        Assert.Equal(150 - Reserve, await RemainingTokensAsync(client));
        await _sink.NextAsync();

        // Settled to 50 used: 100 left, and the next request needs 108.
        using var refused = await client.PostJsonAsync("/v1/chat/completions", LimitTestConfig.ChatRequest);

        var error = await OpenAIError.AssertAsync(refused, 429, "tokens", "rate_limit_exceeded");
        // 8 tokens come back every 3.2 s (150 per minute).
        Assert.Equal("Rate limit reached for test-model on tokens per min (TPM) for key alpha: Limit 150, Used 50, Requested 108. Please try again in 3.2s.",
            error.GetProperty("message").GetString());
        Assert.Equal("3200", refused.Headers.GetValues("retry-after-ms").Single());
        Assert.Equal("4", refused.Headers.GetValues("Retry-After").Single());
    }

    private async Task<GatewayApp> StartAsync(System.Text.Json.Nodes.JsonObject limits)
    {
        var config = LimitTestConfig.With(_upstream.Address + "/v1", limits, _redis.ConnectionString);
        var app = GatewayApp.Start(config.ToJsonString(), services => services
            .AddSingleton<IUsageSink>(_sink)
            .AddSingleton<RateLimitClock>(new FakeRateLimitClock(_time)));
        await app.WaitUntilReadyIsAsync();
        return app;
    }

    private static async Task<long> RemainingTokensAsync(HttpClient client)
    {
        using var response = await client.PostJsonAsync("/v1/chat/completions", LimitTestConfig.ChatRequest);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return long.Parse(response.Headers.GetValues("x-ratelimit-remaining-tokens").Single(), System.Globalization.CultureInfo.InvariantCulture);
    }

    private async Task HandleAsync(HttpContext context)
    {
        using var reader = new StreamReader(context.Request.Body);
        var body = await reader.ReadToEndAsync();
        if (body.Contains("\"stream\":true", StringComparison.Ordinal))
        {
            context.Response.ContentType = "text/event-stream";
            for (var i = 0; i < 3; i++)
            {
                await context.Response.WriteAsync("data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"model\":\"upstream-model\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"abcdefghijklmnop\"}}]}\n\n");
                await context.Response.Body.FlushAsync();
            }

            try
            {
                await Task.Delay(Timeout.Infinite, context.RequestAborted);
            }
            catch (OperationCanceledException)
            {
                _streamAborted.TrySetResult();
            }

            return;
        }

        context.Response.StatusCode = _status;
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(_status == 200 ? LimitTestConfig.Completion() : """{"error":{"message":"boom","type":"server_error","param":null,"code":null}}""");
    }
}
