using System.Collections.Concurrent;
using System.Diagnostics;
using LlmProxy.IntegrationTests.Infrastructure;
using LlmProxy.Telemetry;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;
using WireMock.Server;

namespace LlmProxy.IntegrationTests.Telemetry;

public sealed class TracingAndLogTests : IDisposable
{
    private const string Answer = """{"id":"chatcmpl-77","model":"upstream-model","choices":[{"index":0,"message":{"role":"assistant","content":"ok"},"finish_reason":"stop"}],"usage":{"prompt_tokens":9,"completion_tokens":3,"total_tokens":12}}""";
    private readonly WireMockServer _upstream = WireMockServer.Start();
    private readonly ConcurrentQueue<Activity> _spans = new();
    private readonly ActivityListener _listener;

    public TracingAndLogTests()
    {
        _upstream.Given(Request.Create().UsingPost()).RespondWith(Response.Create().WithStatusCode(200).WithBody(Answer));
        _listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == LlmProxyActivity.SourceName,
            Sample = static (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = _spans.Enqueue,
        };
        ActivitySource.AddActivityListener(_listener);
    }

    public void Dispose()
    {
        _listener.Dispose();
        _upstream.Stop();
    }

    private async Task<(GatewayApp App, HttpResponseMessage Response)> SendAsync(string requestId, bool logBodies = false)
    {
        var sink = new CapturingSink();
        var config = TestConfig.SingleModel(_upstream.Url! + "/v1");
        config["keys"]![0]!["team"] = "search";
        if (logBodies)
        {
            config["telemetry"] = new System.Text.Json.Nodes.JsonObject { ["log_bodies"] = true };
        }

        var app = GatewayApp.Start(config.ToJsonString(), services => services.AddSingleton<IUsageSink>(sink), LogLevel.Trace);
        using var client = app.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions") { Content = new StringContent("""{"model":"test-model","messages":[{"role":"user","content":"secret prompt text"}]}""") };
        request.Headers.Add("x-request-id", requestId);
        request.Headers.Add("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
        var response = await client.SendAsync(request);
        await sink.NextAsync();
        return (app, response);
    }

    [Fact]
    public async Task Span_ForwardedRequest_CarriesGenAiAttributes()
    {
        var (app, response) = await SendAsync("trace-span-1");
        await using var _ = app;
        response.Dispose();

        var span = Assert.Single(_spans, s => (string?)s.GetTagItem("llmproxy.request.id") == "trace-span-1");
        Assert.Equal("chat test-model", span.DisplayName);
        Assert.Equal("chat", span.GetTagItem("gen_ai.operation.name"));
        Assert.Equal("test-model", span.GetTagItem("gen_ai.request.model"));
        Assert.Equal("upstream-model", span.GetTagItem("gen_ai.response.model"));
        Assert.Equal("chatcmpl-77", span.GetTagItem("gen_ai.response.id"));
        Assert.Equal(new[] { "stop" }, (string[]?)span.GetTagItem("gen_ai.response.finish_reasons"));
        Assert.Equal(9L, span.GetTagItem("gen_ai.usage.input_tokens"));
        Assert.Equal(3L, span.GetTagItem("gen_ai.usage.output_tokens"));
        Assert.Equal("alpha", span.GetTagItem("llmproxy.key.id"));
        Assert.Equal("4bf92f3577b34da6a3ce929d0e0e4736", span.TraceId.ToHexString());
    }

    [Fact]
    public async Task TraceContext_IncomingTraceparent_ForwardedToProviderInSameTrace()
    {
        var (app, response) = await SendAsync("trace-forward-1");
        await using var _ = app;
        response.Dispose();

        var headers = Assert.Single(_upstream.LogEntries).RequestMessage!.Headers!;
        var traceparent = Assert.Single(headers["traceparent"]);
        Assert.StartsWith("00-4bf92f3577b34da6a3ce929d0e0e4736-", traceparent, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RequestLog_OneStructuredLinePerRequest_WithoutPromptOrKey()
    {
        var (app, response) = await SendAsync("log-line-1");
        await using var _ = app;
        response.Dispose();

        var lines = app.Logs.GetSnapshot().Where(r => r.Id.Id == 3001).ToList();
        var line = Assert.Single(lines);
        Assert.Equal(LogLevel.Information, line.Level);
        var fields = line.StructuredState!.ToDictionary(p => p.Key, p => p.Value);
        Assert.Equal("log-line-1", fields["RequestId"]);
        Assert.Equal("alpha", fields["KeyId"]);
        Assert.Equal("search", fields["Team"]);
        Assert.Equal("test-model", fields["Model"]);
        Assert.Equal("up/upstream-model", fields["Target"]);
        Assert.Equal("200", fields["Status"]);
        Assert.Equal("9", fields["InputTokens"]);
        Assert.Equal("3", fields["OutputTokens"]);
        Assert.Equal("none", fields["ErrorType"]);
        var everything = string.Join('\n', app.Logs.GetSnapshot().Select(r => r.Message + string.Join(",", r.StructuredState ?? [])));
        Assert.DoesNotContain("secret prompt text", everything, StringComparison.Ordinal);
        Assert.DoesNotContain(TestKeys.Alpha, everything, StringComparison.Ordinal);
    }

    [Fact]
    public async Task KnownKey_AfterTraffic_AppearsInNoLogMetricOrSpan()
    {
        var (app, response) = await SendAsync("no-secrets-1");
        await using var _ = app;
        response.Dispose();
        var metrics = await app.CreateClient(key: null).GetStringAsync("/metrics");
        var summary = await app.CreateClient(key: null).GetStringAsync("/metrics/summary");

        var logs = string.Join('\n', app.Logs.GetSnapshot().Select(r => r.Message + " " + r.Exception + string.Join(",", r.StructuredState ?? [])));
        var spans = string.Join('\n', _spans.SelectMany(s => s.TagObjects.Select(t => t.Key + "=" + t.Value)));
        foreach (var secret in new[] { TestKeys.Alpha, TestKeys.ProviderSecret })
        {
            Assert.DoesNotContain(secret, logs, StringComparison.Ordinal);
            Assert.DoesNotContain(secret, metrics, StringComparison.Ordinal);
            Assert.DoesNotContain(secret, summary, StringComparison.Ordinal);
            Assert.DoesNotContain(secret, spans, StringComparison.Ordinal);
        }

        Assert.Contains("llmproxy.request.id=no-secrets-1", spans, StringComparison.Ordinal);
    }

    [Fact]
    public async Task BodiesLog_OptedIn_PromptAndAnswerAtDebugOnly()
    {
        var (app, response) = await SendAsync("bodies-1", logBodies: true);
        await using var _ = app;
        response.Dispose();

        var line = Assert.Single(app.Logs.GetSnapshot(), r => r.Id.Id == 3002);
        Assert.Equal(LogLevel.Debug, line.Level);
        Assert.Contains("secret prompt text", line.Message, StringComparison.Ordinal);
        Assert.Contains("chatcmpl-77", line.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(app.Logs.GetSnapshot(), r => r.Level > LogLevel.Debug && r.Message.Contains("secret prompt text", StringComparison.Ordinal));
    }
}
