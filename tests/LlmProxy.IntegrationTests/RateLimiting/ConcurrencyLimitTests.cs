using System.Net;
using LlmProxy.IntegrationTests.Infrastructure;
using LlmProxy.Telemetry;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace LlmProxy.IntegrationTests.RateLimiting;

/// <summary>A concurrency cap of 1 in Redis: held while a request runs, released however it ends.</summary>
public sealed class ConcurrencyLimitTests : IAsyncLifetime
{
    private readonly CapturingSink _sink = new();
    private RedisServer _redis = null!;
    private TestUpstream _upstream = null!;
    private TaskCompletionSource _arrived = NewSignal();
    private TaskCompletionSource _release = NewSignal();
    private int _status = 200;

    public async Task InitializeAsync()
    {
        _redis = await RedisServer.StartAsync();
        _upstream = await TestUpstream.StartAsync(async context =>
        {
            _arrived.TrySetResult();
            try
            {
                await _release.Task.WaitAsync(context.RequestAborted);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            context.Response.StatusCode = _status;
            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync(_status == 200 ? LimitTestConfig.Completion() : """{"error":{"message":"boom","type":"server_error","param":null,"code":null}}""");
        });
    }

    public async Task DisposeAsync()
    {
        _release.TrySetResult();
        await _upstream.DisposeAsync();
        await _redis.DisposeAsync();
    }

    [Theory]
    [InlineData(200)]
    [InlineData(500)]
    public async Task Concurrent_OneInFlight_SecondRefusedUntilTheFirstEnds(int upstreamStatus)
    {
        _status = upstreamStatus;
        await using var app = await StartAsync();
        using var client = app.CreateClient();

        var first = client.PostJsonAsync("/v1/chat/completions", LimitTestConfig.ChatRequest);
        await _arrived.Task.WaitAsync(TimeSpan.FromSeconds(20));
        using (var second = await client.PostJsonAsync("/v1/chat/completions", LimitTestConfig.ChatRequest))
        {
            var error = await OpenAIError.AssertAsync(second, 429, "requests", "rate_limit_exceeded");
            Assert.StartsWith("Too many concurrent requests for test-model for key alpha: Limit 1, In flight 1.", error.GetProperty("message").GetString(), StringComparison.Ordinal);
        }

        _release.TrySetResult();
        using (var finished = await first)
        {
            Assert.Equal(upstreamStatus, (int)finished.StatusCode);
        }

        await _sink.NextAsync();
        await _sink.NextAsync();
        Assert.Equal(0, await _redis.Database.SortedSetLengthAsync("{llmproxy}:key:alpha:concurrent"));
        using var third = await client.PostJsonAsync("/v1/chat/completions", LimitTestConfig.ChatRequest);
        Assert.Equal(upstreamStatus, (int)third.StatusCode);
    }

    [Fact]
    public async Task Concurrent_ClientAbortsInFlight_LeaseReleased()
    {
        await using var app = await StartAsync();
        using var client = app.CreateClient();
        using var abort = new CancellationTokenSource();

        var first = client.PostAsync("/v1/chat/completions", new StringContent(LimitTestConfig.ChatRequest, System.Text.Encoding.UTF8, "application/json"), abort.Token);
        await _arrived.Task.WaitAsync(TimeSpan.FromSeconds(20));
        Assert.Equal(1, await _redis.Database.SortedSetLengthAsync("{llmproxy}:key:alpha:concurrent"));
        await abort.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => first);

        var record = await _sink.NextAsync();
        Assert.Equal(ErrorCategory.ClientCancelled, record.Error);
        _release.TrySetResult();
        using var next = await client.PostJsonAsync("/v1/chat/completions", LimitTestConfig.ChatRequest);
        Assert.Equal(HttpStatusCode.OK, next.StatusCode);
    }

    [Fact]
    public async Task Concurrent_RefusedUnderARequestLimit_429CarriesTheRequestHeaders()
    {
        await using var app = await StartAsync(new() { ["concurrent"] = 1, ["requests_per_minute"] = 10 });
        using var client = app.CreateClient();

        var first = client.PostJsonAsync("/v1/chat/completions", LimitTestConfig.ChatRequest);
        await _arrived.Task.WaitAsync(TimeSpan.FromSeconds(20));
        using (var second = await client.PostJsonAsync("/v1/chat/completions", LimitTestConfig.ChatRequest))
        {
            await OpenAIError.AssertAsync(second, 429, "requests", "rate_limit_exceeded");
            // The request in flight was counted; the refused one was not.
            Assert.Equal("10", second.Headers.GetValues("x-ratelimit-limit-requests").Single());
            Assert.Equal("9", second.Headers.GetValues("x-ratelimit-remaining-requests").Single());
            Assert.Matches("^[0-9.]+s$", second.Headers.GetValues("x-ratelimit-reset-requests").Single());
        }

        _release.TrySetResult();
        using var finished = await first;
        Assert.Equal(HttpStatusCode.OK, finished.StatusCode);
    }

    private async Task<GatewayApp> StartAsync(System.Text.Json.Nodes.JsonObject? limits = null)
    {
        var app = GatewayApp.Start(LimitTestConfig.With(_upstream.Address + "/v1", limits ?? new() { ["concurrent"] = 1 }, _redis.ConnectionString).ToJsonString(),
            services => services.AddSingleton<IUsageSink>(_sink));
        await app.WaitUntilReadyIsAsync();
        return app;
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
