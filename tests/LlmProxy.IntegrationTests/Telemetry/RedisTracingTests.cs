using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json.Nodes;
using LlmProxy.IntegrationTests.Infrastructure;
using LlmProxy.IntegrationTests.RateLimiting;

namespace LlmProxy.IntegrationTests.Telemetry;

/// <summary>
/// With traces exported, the gateway's own Redis connection is instrumented: admission commands are spans of the
/// request's trace. Alone in its collection: a tracer provider listens process-wide (ASP.NET Core, HttpClient) and
/// would add spans and trace headers to other tests' requests.
/// </summary>
[Collection(nameof(TracerProviderCollection))]
public sealed class RedisTracingTests : IAsyncLifetime
{
    private const string RedisSource = "OpenTelemetry.Instrumentation.StackExchangeRedis";
    private readonly ConcurrentQueue<Activity> _spans = new();
    private readonly WireMock.Server.WireMockServer _upstream = LimitTestConfig.StartCompletionUpstream();
    private readonly ActivityListener _listener;
    private RedisServer _redis = null!;

    public RedisTracingTests()
    {
        _listener = new ActivityListener
        {
            ShouldListenTo = static source => source.Name is RedisSource or LlmProxy.Telemetry.LlmProxyActivity.SourceName,
            Sample = static (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = _spans.Enqueue,
        };
        ActivitySource.AddActivityListener(_listener);
    }

    public async Task InitializeAsync() => _redis = await RedisServer.StartAsync();

    public async Task DisposeAsync()
    {
        _listener.Dispose();
        _upstream.Stop();
        await _redis.DisposeAsync();
    }

    [Fact]
    public async Task Admission_TracingOn_RedisCommandIsASpanOfTheRequestsTrace()
    {
        var config = LimitTestConfig.With(_upstream.Url! + "/v1", new JsonObject { ["requests_per_minute"] = 100 }, _redis.ConnectionString);
        // An endpoint nobody listens on: the exporter's failures do not matter, it only switches tracing on.
        await using var app = GatewayApp.Start(config.ToJsonString(), settings: new Dictionary<string, string> { ["OTEL_EXPORTER_OTLP_ENDPOINT"] = "http://127.0.0.1:9" });
        using var client = app.CreateClient(TestKeys.Alpha);
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions") { Content = new StringContent(LimitTestConfig.ChatRequest) };
        request.Headers.Add("x-request-id", "redis-trace-1");

        using var response = await client.SendAsync(request);
        Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);

        var requestSpan = await NextSpanAsync(s => s.Source.Name == LlmProxy.Telemetry.LlmProxyActivity.SourceName && (string?)s.GetTagItem("llmproxy.request.id") == "redis-trace-1");
        var span = await NextSpanAsync(s => s.Source.Name == RedisSource && s.TraceId == requestSpan.TraceId);
        // The admission script (EVALSHA; StackExchange.Redis reports script calls as EVAL).
        Assert.StartsWith("EVAL", span.DisplayName, StringComparison.Ordinal);
        Assert.Equal(ActivityKind.Client, span.Kind);
        Assert.Contains(span.TagObjects, tag => tag.Key is "db.system" or "db.system.name" && (string?)tag.Value == "redis");
        Assert.DoesNotContain(span.TagObjects, tag => tag.Value is string text && text.Contains(TestKeys.Alpha, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Admission_RedisConnectionChangedByReload_NewConnectionTracedToo()
    {
        await using var second = await RedisServer.StartAsync();
        var config = LimitTestConfig.With(_upstream.Url! + "/v1", new JsonObject { ["requests_per_minute"] = 100 }, _redis.ConnectionString);
        await using var app = GatewayApp.Start(config.ToJsonString(), settings: new Dictionary<string, string> { ["OTEL_EXPORTER_OTLP_ENDPOINT"] = "http://127.0.0.1:9" });
        using var client = app.CreateClient(TestKeys.Alpha);
        await SendAsync(client, "redis-reload-1");
        var applied = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        app.Store.ReloadAttempted += outcome =>
        {
            if (outcome.Status == LlmProxy.Configuration.ConfigReloadStatus.Applied)
            {
                applied.TrySetResult();
            }
        };

        config["redis"]!["connection"] = second.ConnectionString;
        await File.WriteAllTextAsync(app.ConfigPath, config.ToJsonString());
        await applied.Task.WaitAsync(TimeSpan.FromSeconds(20));
        await SendAsync(client, "redis-reload-2");

        var requestSpan = await NextSpanAsync(s => s.Source.Name == LlmProxy.Telemetry.LlmProxyActivity.SourceName && (string?)s.GetTagItem("llmproxy.request.id") == "redis-reload-2");
        var span = await NextSpanAsync(s => s.Source.Name == RedisSource && s.TraceId == requestSpan.TraceId);
        Assert.StartsWith("EVAL", span.DisplayName, StringComparison.Ordinal);
        // The second request was admitted on the new server.
        Assert.NotEmpty(second.Database.Multiplexer.GetServer(second.ConnectionString).Keys(pattern: "{llmproxy}*"));
    }

    private static async Task SendAsync(HttpClient client, string requestId)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions") { Content = new StringContent(LimitTestConfig.ChatRequest) };
        request.Headers.Add("x-request-id", requestId);
        using var response = await client.SendAsync(request);
        Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
    }

    // The instrumentation turns profiled commands into spans on its own thread, polling at least every second.
    private async Task<Activity> NextSpanAsync(Func<Activity, bool> match)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (true)
        {
            var span = _spans.FirstOrDefault(match);
            if (span is not null)
            {
                return span;
            }

            try
            {
                await Task.Delay(50, timeout.Token);
            }
            catch (OperationCanceledException)
            {
                Assert.Fail("no matching span within 30 s");
            }
        }
    }
}

[CollectionDefinition(nameof(TracerProviderCollection), DisableParallelization = true)]
public sealed class TracerProviderCollection;
