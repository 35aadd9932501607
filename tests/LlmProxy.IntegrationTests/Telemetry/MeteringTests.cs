using System.Text.Json.Nodes;
using LlmProxy.IntegrationTests.Infrastructure;
using LlmProxy.Telemetry;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;
using WireMock.Server;

namespace LlmProxy.IntegrationTests.Telemetry;

public sealed class MeteringTests : IDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);
    private readonly WireMockServer _upstream = WireMockServer.Start();
    private readonly CapturingSink _sink = new();

    public void Dispose() => _upstream.Stop();

    private GatewayApp Start(JsonObject config)
        => GatewayApp.Start(config.ToJsonString(), services => services.AddSingleton<IUsageSink>(_sink));

    private GatewayApp StartWithPricing(JsonObject config, string pricing)
    {
        var directory = Directory.CreateTempSubdirectory("llmproxy-test-");
        File.WriteAllText(Path.Combine(directory.FullName, "pricing.json"), pricing);
        var path = Path.Combine(directory.FullName, "llmproxy.json");
        File.WriteAllText(path, config.ToJsonString());
        return GatewayApp.StartWithPath(path, directory, services => services.AddSingleton<IUsageSink>(_sink));
    }

    [Fact]
    public async Task Chat_NonStreamWithUsage_RecordsExactUsageCostAndIds()
    {
        _upstream.Given(Request.Create().UsingPost()).RespondWith(Response.Create().WithStatusCode(200).WithHeader("Content-Type", "application/json").WithBody(
            """{"id":"chatcmpl-9","object":"chat.completion","model":"upstream-model-2024","choices":[{"index":0,"message":{"role":"assistant","content":"hi"},"finish_reason":"stop"}],"usage":{"prompt_tokens":1000,"completion_tokens":500,"total_tokens":1500,"prompt_tokens_details":{"cached_tokens":400},"completion_tokens_details":{"reasoning_tokens":120}}}"""));
        var config = TestConfig.SingleModel(_upstream.Url! + "/v1");
        config["keys"]![0]!["team"] = "search";
        await using var app = StartWithPricing(config, """{"models":{"up/upstream-model":{"input_per_1m":2.5,"output_per_1m":10,"cached_input_per_1m":1.25}}}""");
        using var client = app.CreateClient();

        using var response = await client.PostJsonAsync("/v1/chat/completions", """{"model":"test-model","messages":[]}""");
        var record = await _sink.NextAsync();

        Assert.Equal(200, (int)response.StatusCode);
        Assert.Equal(new LlmProxy.Usage.TokenUsage(1000, 500, 400, 120, Estimated: false), record.Usage);
        // 600 uncached × 2.5 + 400 cached × 1.25 + 500 output × 10, per million.
        Assert.Equal(0.0070m, record.CostUsd);
        Assert.Equal("test-model", record.RequestModel);
        Assert.Equal("upstream-model-2024", record.ResponseModel);
        Assert.Equal("chatcmpl-9", record.ResponseId);
        Assert.Equal("stop", record.FinishReason);
        Assert.Equal("alpha", record.KeyId);
        Assert.Equal("search", record.Team);
        Assert.Equal("up", record.Provider);
        Assert.Equal("chat", record.Operation);
        Assert.Equal(ErrorCategory.None, record.Error);
        Assert.Equal(response.Headers.GetValues("x-request-id").Single(), record.RequestId);
        Assert.True(record.Duration > 0);
        Assert.NotNull(record.UpstreamDuration);
        Assert.InRange(record.Overhead, 0, record.Duration);
    }

    [Fact]
    public async Task Chat_PriceUnknown_CostIsUnknownNotZero()
    {
        _upstream.Given(Request.Create().UsingPost()).RespondWith(Response.Create().WithStatusCode(200)
            .WithBody("""{"usage":{"prompt_tokens":10,"completion_tokens":5,"total_tokens":15}}"""));
        await using var app = Start(TestConfig.SingleModel(_upstream.Url! + "/v1"));
        using var client = app.CreateClient();

        using var response = await client.PostJsonAsync("/v1/chat/completions", """{"model":"test-model"}""");
        var record = await _sink.NextAsync();

        Assert.Equal(15, record.Usage!.Value.Total);
        Assert.Null(record.CostUsd);
    }

    [Fact]
    public async Task Embeddings_UsageWithoutOutput_RecordsInputOnly()
    {
        _upstream.Given(Request.Create().UsingPost()).RespondWith(Response.Create().WithStatusCode(200)
            .WithBody("""{"object":"list","data":[{"object":"embedding","index":0,"embedding":[0.1,0.2]}],"model":"e","usage":{"prompt_tokens":7,"total_tokens":7}}"""));
        await using var app = Start(TestConfig.SingleModel(_upstream.Url! + "/v1"));
        using var client = app.CreateClient();

        using var response = await client.PostJsonAsync("/v1/embeddings", """{"model":"test-model","input":"x"}""");
        var record = await _sink.NextAsync();

        Assert.Equal(new LlmProxy.Usage.TokenUsage(7, 0, 0, 0, Estimated: false), record.Usage);
        Assert.Equal("embeddings", record.Operation);
    }

    [Fact]
    public async Task Embeddings_BodyLargerThanCapture_UsageReadFromTheTail()
    {
        var vector = string.Join(",", Enumerable.Repeat("0.0123456789", 150_000));
        var body = $$$"""{"object":"list","data":[{"object":"embedding","index":0,"embedding":[{{{vector}}}]}],"model":"e","usage":{"prompt_tokens":4242,"total_tokens":4242}}""";
        _upstream.Given(Request.Create().UsingPost()).RespondWith(Response.Create().WithStatusCode(200).WithBody(body));
        await using var app = Start(TestConfig.SingleModel(_upstream.Url! + "/v1"));
        using var client = app.CreateClient();

        using var response = await client.PostJsonAsync("/v1/embeddings", """{"model":"test-model","input":"x"}""");
        var received = await response.Content.ReadAsStringAsync();
        var record = await _sink.NextAsync();

        Assert.True(body.Length > 1024 * 1024);
        Assert.Equal(body, received);
        Assert.Equal(new LlmProxy.Usage.TokenUsage(4242, 0, 0, 0, Estimated: false), record.Usage);
    }

    [Fact]
    public async Task ChatStream_ClientDidNotAskForUsage_GatewayAsksAndStripsTheUsageChunk()
    {
        string? received = null;
        await using var upstream = await TestUpstream.StartAsync(async context =>
        {
            received = await new StreamReader(context.Request.Body).ReadToEndAsync();
            context.Response.ContentType = "text/event-stream";
            await context.Response.WriteAsync(Chunk("""{"role":"assistant","content":""}""") + Chunk("""{"content":"Hello"}""") + Chunk("""{"content":" world"}""")
                + "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}],\"usage\":null}\n\n"
                + "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"model\":\"m\",\"choices\":[],\"usage\":{\"prompt_tokens\":11,\"completion_tokens\":2,\"total_tokens\":13}}\n\n"
                + "data: [DONE]\n\n");
        });
        await using var app = Start(TestConfig.SingleModel(upstream.Address + "/v1"));
        using var client = app.CreateClient();

        using var response = await client.PostJsonAsync("/v1/chat/completions", """{"model":"test-model","stream":true,"messages":[]}""");
        var text = await response.Content.ReadAsStringAsync();
        var record = await _sink.NextAsync();

        Assert.Equal("""{"model":"upstream-model","stream":true,"messages":[],"stream_options":{"include_usage":true}}""", received);
        Assert.DoesNotContain("prompt_tokens", text, StringComparison.Ordinal);
        Assert.Contains(" world", text, StringComparison.Ordinal);
        Assert.EndsWith("data: [DONE]\n\n", text, StringComparison.Ordinal);
        Assert.Equal(new LlmProxy.Usage.TokenUsage(11, 2, 0, 0, Estimated: false), record.Usage);
        Assert.NotNull(record.TimeToFirstToken);
        Assert.True(record.Stream);
        Assert.Equal("stop", record.FinishReason);
    }

    [Fact]
    public async Task ChatStream_ClientAskedForUsage_UsageChunkKept()
    {
        string? received = null;
        await using var upstream = await TestUpstream.StartAsync(async context =>
        {
            received = await new StreamReader(context.Request.Body).ReadToEndAsync();
            context.Response.ContentType = "text/event-stream";
            await context.Response.WriteAsync(Chunk("""{"content":"Hi"}""")
                + "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":1,\"total_tokens\":4}}\n\ndata: [DONE]\n\n");
        });
        await using var app = Start(TestConfig.SingleModel(upstream.Address + "/v1"));
        using var client = app.CreateClient();
        const string body = """{"model":"test-model","stream":true,"stream_options":{"include_usage":true}}""";

        using var response = await client.PostJsonAsync("/v1/chat/completions", body);
        var text = await response.Content.ReadAsStringAsync();
        var record = await _sink.NextAsync();

        Assert.Equal(body.Replace("test-model", "upstream-model", StringComparison.Ordinal), received);
        Assert.Contains("\"prompt_tokens\":3", text, StringComparison.Ordinal);
        Assert.Equal(4, record.Usage!.Value.Total);
    }

    [Fact]
    public async Task ChatStream_ProviderSendsNoUsage_UsageEstimatedFromText()
    {
        await using var upstream = await TestUpstream.StartAsync(async context =>
        {
            context.Response.ContentType = "text/event-stream";
            await context.Response.WriteAsync(Chunk("""{"content":"abcdefgh"}""") + Chunk("""{"content":"ijklmnop"}""") + "data: [DONE]\n\n");
        });
        await using var app = Start(TestConfig.SingleModel(upstream.Address + "/v1"));
        using var client = app.CreateClient();

        using var response = await client.PostJsonAsync("/v1/chat/completions", """{"model":"test-model","stream":true}""");
        await response.Content.ReadAsStringAsync();
        var record = await _sink.NextAsync();

        var usage = record.Usage!.Value;
        Assert.True(usage.Estimated);
        Assert.Equal(4, usage.Output);
        Assert.True(usage.Input > 0);
    }

    [Fact]
    public async Task ChatStream_ClientDisconnectsMidStream_UsageStillRecorded()
    {
        var clientGone = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var upstream = await TestUpstream.StartAsync(async context =>
        {
            context.Response.ContentType = "text/event-stream";
            await context.Response.WriteAsync(Chunk("""{"content":"0123456789abcdef"}"""));
            await context.Response.Body.FlushAsync();
            await Task.Delay(Timeout.Infinite, context.RequestAborted).ContinueWith(static _ => { }, TaskScheduler.Default);
            clientGone.TrySetResult();
        });
        await using var app = Start(TestConfig.SingleModel(upstream.Address + "/v1"));
        using var client = app.CreateClient();
        using var cancel = new CancellationTokenSource();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions") { Content = new StringContent("""{"model":"test-model","stream":true}""") };

        var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancel.Token);
        var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        Assert.StartsWith("data: ", await reader.ReadLineAsync().WaitAsync(Patience), StringComparison.Ordinal);
        cancel.Cancel();
        response.Dispose();
        var record = await _sink.NextAsync();
        await clientGone.Task.WaitAsync(Patience);

        Assert.Equal(ErrorCategory.ClientCancelled, record.Error);
        Assert.Equal(4, record.Usage!.Value.Output);
        Assert.True(record.Usage.Value.Estimated);
    }

    [Fact]
    public async Task Post_IncomingRequestId_IsHonoured()
    {
        _upstream.Given(Request.Create().UsingPost()).RespondWith(Response.Create().WithStatusCode(200).WithBody("{}"));
        await using var app = Start(TestConfig.SingleModel(_upstream.Url! + "/v1"));
        using var client = app.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions") { Content = new StringContent("""{"model":"test-model"}""") };
        request.Headers.Add("x-request-id", "my-trace-42");

        using var response = await client.SendAsync(request);
        var record = await _sink.NextAsync();

        Assert.Equal("my-trace-42", response.Headers.GetValues("x-request-id").Single());
        Assert.Equal("my-trace-42", record.RequestId);
        Assert.True(double.TryParse(response.Headers.GetValues("x-llmproxy-overhead-ms").Single(), System.Globalization.CultureInfo.InvariantCulture, out var overhead));
        Assert.InRange(overhead, 0, 10_000);
    }

    [Theory]
    [InlineData(null, 401, ErrorCategory.Auth)]
    [InlineData("""{"model":"nope"}""", 404, ErrorCategory.NotFound)]
    [InlineData("""{"model":""" , 400, ErrorCategory.BadRequest)]
    public async Task Post_GatewayErrors_RecordedWithTheirCategory(string? body, int status, ErrorCategory category)
    {
        await using var app = Start(TestConfig.SingleModel(_upstream.Url! + "/v1"));
        using var client = app.CreateClient(key: body is null ? null : TestKeys.Alpha);

        using var response = await client.PostJsonAsync("/v1/chat/completions", body ?? """{"model":"test-model"}""");
        var record = await _sink.NextAsync();

        Assert.Equal(status, (int)response.StatusCode);
        Assert.Equal(status, record.Status);
        Assert.Equal(category, record.Error);
        Assert.Null(record.Usage);
        Assert.Equal("unknown", record.RequestModel);
    }

    [Fact]
    public async Task Post_UpstreamRateLimited_CategoryUpstreamRateLimitedAndNoTokens()
    {
        _upstream.Given(Request.Create().UsingPost()).RespondWith(Response.Create().WithStatusCode(429)
            .WithBody("""{"error":{"message":"slow down","type":"requests","param":null,"code":"rate_limit_exceeded"}}"""));
        await using var app = Start(TestConfig.SingleModel(_upstream.Url! + "/v1"));
        using var client = app.CreateClient();

        using var response = await client.PostJsonAsync("/v1/chat/completions", """{"model":"test-model"}""");
        var record = await _sink.NextAsync();

        Assert.Equal(ErrorCategory.UpstreamRateLimited, record.Error);
        Assert.Null(record.Usage);
    }

    [Fact]
    public async Task ChatStream_ProviderSendsContentLength_StrippedStreamStillComplete()
    {
        const string events = "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hi\"}}]}\n\ndata: {\"choices\":[],\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":1,\"total_tokens\":4}}\n\ndata: [DONE]\n\n";
        await using var upstream = await TestUpstream.StartAsync(async context =>
        {
            context.Response.ContentType = "text/event-stream";
            context.Response.ContentLength = System.Text.Encoding.UTF8.GetByteCount(events);
            await context.Response.WriteAsync(events);
        });
        await using var app = Start(TestConfig.SingleModel(upstream.Address + "/v1"));
        using var client = app.CreateClient();

        using var response = await client.PostJsonAsync("/v1/chat/completions", """{"model":"test-model","stream":true}""");
        var text = await response.Content.ReadAsStringAsync();
        var record = await _sink.NextAsync();

        Assert.Equal("data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hi\"}}]}\n\ndata: [DONE]\n\n", text);
        Assert.Equal(4, record.Usage!.Value.Total);
    }

    [Fact]
    public async Task Chat_AbsurdTokenCounts_IgnoredAndResponseIntact()
    {
        const string answer = """{"id":"x","choices":[{"index":0,"message":{"content":"abcd"},"finish_reason":"stop"}],"usage":{"prompt_tokens":9000000000000000000,"completion_tokens":9000000000000000000,"total_tokens":1}}""";
        _upstream.Given(Request.Create().UsingPost()).RespondWith(Response.Create().WithStatusCode(200).WithBody(answer));
        await using var app = Start(TestConfig.SingleModel(_upstream.Url! + "/v1"));
        using var client = app.CreateClient();

        using var response = await client.PostJsonAsync("/v1/chat/completions", """{"model":"test-model"}""");
        var text = await response.Content.ReadAsStringAsync();
        var record = await _sink.NextAsync();

        Assert.Equal(answer, text);
        Assert.True(record.Usage!.Value.Estimated);
        Assert.True(record.Usage.Value.Total < 1000);
    }

    [Fact]
    public async Task Chat_Upstream429NotJson_CategoryUpstreamRateLimited()
    {
        _upstream.Given(Request.Create().UsingPost()).RespondWith(Response.Create().WithStatusCode(429).WithBody("slow down"));
        await using var app = Start(TestConfig.SingleModel(_upstream.Url! + "/v1"));
        using var client = app.CreateClient();

        using var response = await client.PostJsonAsync("/v1/chat/completions", """{"model":"test-model"}""");
        var record = await _sink.NextAsync();

        Assert.Equal(429, (int)response.StatusCode);
        Assert.Equal(ErrorCategory.UpstreamRateLimited, record.Error);
    }

    private static string Chunk(string delta)
        => "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":" + delta + ",\"finish_reason\":null}]}\n\n";
}
