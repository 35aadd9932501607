using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;
using LlmProxy.IntegrationTests.Infrastructure;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;
using WireMock.Server;

namespace LlmProxy.IntegrationTests.Errors;

public sealed class ErrorTests : IDisposable
{
    private readonly WireMockServer _upstream = WireMockServer.Start();

    public void Dispose() => _upstream.Stop();

    public static TheoryData<string, string?> BadBodies => new()
    {
        { "", null },
        { "{", null },
        { "not json", null },
        { "[1,2,3]", null },
        { "\"model\"", null },
        { """{"model":"test-model",}""", null },
        { """{"model":"test-model"} trailing""", null },
        { """{"model":"test-model","messages":[{"role":"user"]}""", null },
        { """{"messages":[]}""", "model" },
        { """{"model":5}""", "model" },
        { """{"model":null}""", "model" },
        { """{"model":["a"]}""", "model" },
        { """{"model":""}""", "model" },
        { """{"model":"test-model","model":"other-model"}""", "model" },
        { """{"model":"test-model","stream":"yes"}""", "stream" },
        { """{"model":"test-model","stream":1}""", "stream" },
        { "{\"model\":\"test-model\",\"x\":\"\xff\"}", null },
        { new string('[', 10_000), null },
        { "{\"a\":" + new string('[', 500) + new string(']', 500) + ",\"model\":\"test-model\"}", null },
    };

    [Theory]
    [MemberData(nameof(BadBodies))]
    public async Task Post_BadBody_Returns400InvalidRequestNeverForwarded(string body, string? param)
    {
        await using var app = TestConfig.SingleModel(_upstream.Url! + "/v1").Start();
        using var client = app.CreateClient();

        using var response = await client.PostAsync("/v1/chat/completions", new ByteArrayContent(Encoding.Latin1.GetBytes(body)));

        var error = await OpenAIError.AssertAsync(response, 400, "invalid_request_error", null);
        Assert.Equal(param, error.GetProperty("param").GetString());
        Assert.Empty(_upstream.LogEntries);
    }

    [Fact]
    public async Task Post_UnknownModel_Returns404ModelNotFound()
    {
        await using var app = TestConfig.SingleModel(_upstream.Url! + "/v1").Start();
        using var client = app.CreateClient();

        using var response = await client.PostJsonAsync("/v1/chat/completions", """{"model":"gpt-unknown"}""");

        var error = await OpenAIError.AssertAsync(response, 404, "invalid_request_error", "model_not_found");
        Assert.Equal(System.Text.Json.JsonValueKind.Null, error.GetProperty("param").ValueKind);
        Assert.Contains("gpt-unknown", error.GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Post_BodyOverLimit_Returns413ReadableByClient(bool withContentLength)
    {
        var config = TestConfig.SingleModel(_upstream.Url! + "/v1");
        config["server"] = new JsonObject { ["max_request_body_bytes"] = 1024 };
        await using var app = config.Start();
        using var client = app.CreateClient();
        var body = Encoding.UTF8.GetBytes("{\"model\":\"test-model\",\"pad\":\"" + new string('x', 256 * 1024) + "\"}");
        HttpContent content = withContentLength ? new ByteArrayContent(body) : new StreamContent(new NonSeekableStream(body));

        using var response = await client.PostAsync("/v1/chat/completions", content);

        await OpenAIError.AssertAsync(response, 413, "invalid_request_error", "request_too_large");
        Assert.Empty(_upstream.LogEntries);
    }

    [Fact]
    public async Task Post_BodyAtLimit_IsForwarded()
    {
        _upstream.Given(Request.Create().UsingPost()).RespondWith(Response.Create().WithStatusCode(200).WithBody("{}"));
        var config = TestConfig.SingleModel(_upstream.Url! + "/v1");
        config["server"] = new JsonObject { ["max_request_body_bytes"] = 1024 };
        await using var app = config.Start();
        using var client = app.CreateClient();
        var prefix = "{\"model\":\"test-model\",\"pad\":\"";
        var body = prefix + new string('x', 1024 - prefix.Length - 2) + "\"}";

        using var response = await client.PostJsonAsync("/v1/chat/completions", body);

        Assert.Equal(1024, Encoding.UTF8.GetByteCount(body));
        Assert.Equal(200, (int)response.StatusCode);
    }

    [Theory]
    [InlineData("POST", "/v1/unknown")]
    [InlineData("GET", "/v1/chat/completions")]
    [InlineData("GET", "/")]
    [InlineData("DELETE", "/v1/models")]
    [InlineData("GET", "/v1/foo.json")]
    [InlineData("GET", "/.env")]
    [InlineData("POST", "/v1/chat/completions.json")]
    [InlineData("GET", "/openapi/v2.json")]
    public async Task Request_UnknownPath_Returns404InvalidUrl(string method, string path)
    {
        await using var app = TestConfig.SingleModel(_upstream.Url! + "/v1").Start();
        using var client = app.CreateClient();

        using var response = await client.SendAsync(new HttpRequestMessage(new HttpMethod(method), path));

        var error = await OpenAIError.AssertAsync(response, 404, "invalid_request_error", null);
        Assert.Contains(path, error.GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Post_ProviderUnreachable_Returns502()
    {
        await using var app = TestConfig.SingleModel($"http://127.0.0.1:{ClosedPort()}/v1").Start();
        using var client = app.CreateClient();

        using var response = await client.PostJsonAsync("/v1/chat/completions", """{"model":"test-model"}""");

        await OpenAIError.AssertAsync(response, 502, "server_error", "upstream_unreachable");
    }

    [Fact]
    public async Task Post_ProviderTooSlow_Returns504()
    {
        await using var upstream = await TestUpstream.StartAsync(async context =>
        {
            // Never answers; ends only when the gateway gives up and aborts.
            await Task.Delay(Timeout.Infinite, context.RequestAborted).ContinueWith(static _ => { }, TaskScheduler.Default);
        });
        var config = TestConfig.SingleModel(upstream.Address + "/v1");
        config["models"]!["test-model"]!["timeout_seconds"] = 0.3;
        await using var app = config.Start();
        using var client = app.CreateClient();

        using var response = await client.PostJsonAsync("/v1/chat/completions", """{"model":"test-model"}""");

        await OpenAIError.AssertAsync(response, 504, "server_error", "upstream_timeout");
    }

    [Fact]
    public async Task Post_ProviderHtmlErrorPage_BecomesOpenAIShapedError()
    {
        _upstream.Given(Request.Create().UsingPost()).RespondWith(Response.Create().WithStatusCode(502)
            .WithHeader("Content-Type", "text/html").WithBody("<html><body><h1>502 Bad Gateway</h1></body></html>"));
        await using var app = TestConfig.SingleModel(_upstream.Url! + "/v1").Start();
        using var client = app.CreateClient();

        using var response = await client.PostJsonAsync("/v1/chat/completions", """{"model":"test-model"}""");

        var error = await OpenAIError.AssertAsync(response, 502, "server_error", "upstream_error");
        Assert.DoesNotContain("<html>", error.GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Post_ProviderErrorEchoesItsKey_KeyRedacted()
    {
        _upstream.Given(Request.Create().UsingPost()).RespondWith(Response.Create().WithStatusCode(400)
            .WithHeader("Content-Type", "application/json")
            .WithBody($$$"""{"error":{"message":"Bad request for key {{{TestKeys.ProviderSecret}}} (prefix {{{TestKeys.ProviderSecret[..8]}}}****)","type":"invalid_request_error","param":null,"code":null}}"""));
        await using var app = TestConfig.SingleModel(_upstream.Url! + "/v1").Start();
        using var client = app.CreateClient();

        using var response = await client.PostJsonAsync("/v1/chat/completions", """{"model":"test-model"}""");

        var error = await OpenAIError.AssertAsync(response, 400, "invalid_request_error", null);
        var message = error.GetProperty("message").GetString()!;
        Assert.DoesNotContain(TestKeys.ProviderSecret[..8], message, StringComparison.Ordinal);
        Assert.Contains("[redacted]", message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Post_ProviderRejectsGatewayCredential_Returns502WithoutProviderBodyOrRetry()
    {
        const int status = 401;
        _upstream.Given(Request.Create().UsingPost()).RespondWith(Response.Create().WithStatusCode(status)
            .WithHeader("Content-Type", "application/json")
            .WithBody($$$"""{"error":{"message":"Incorrect API key provided: {{{TestKeys.ProviderSecret[..10]}}}********","type":"invalid_request_error","param":null,"code":"invalid_api_key"}}"""));
        await using var app = TestConfig.SingleModel(_upstream.Url! + "/v1").Start();
        using var client = app.CreateClient();

        using var response = await client.PostJsonAsync("/v1/chat/completions", """{"model":"test-model"}""");

        var error = await OpenAIError.AssertAsync(response, 502, "server_error", "upstream_auth_error");
        Assert.DoesNotContain(TestKeys.ProviderSecret[..6], error.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Equal("false", response.Headers.GetValues("x-should-retry").Single());
    }

    [Fact]
    public async Task Post_Provider403_PassesThroughRedacted()
    {
        _upstream.Given(Request.Create().UsingPost()).RespondWith(Response.Create().WithStatusCode(403)
            .WithHeader("Content-Type", "application/json")
            .WithBody($$$"""{"error":{"message":"Project {{{TestKeys.ProviderSecret}}} does not have access to model","type":"invalid_request_error","param":null,"code":"model_not_found"}}"""));
        await using var app = TestConfig.SingleModel(_upstream.Url! + "/v1").Start();
        using var client = app.CreateClient();

        using var response = await client.PostJsonAsync("/v1/chat/completions", """{"model":"test-model"}""");

        var error = await OpenAIError.AssertAsync(response, 403, "invalid_request_error", "model_not_found");
        Assert.DoesNotContain(TestKeys.ProviderSecret, error.GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Post_ProviderGzipError_DecodedAndPassedThrough()
    {
        var json = """{"error":{"message":"context too long","type":"invalid_request_error","param":"messages","code":"context_length_exceeded"}}""";
        using var compressed = new MemoryStream();
        using (var gzip = new System.IO.Compression.GZipStream(compressed, System.IO.Compression.CompressionLevel.Fastest, leaveOpen: true))
        {
            gzip.Write(Encoding.UTF8.GetBytes(json));
        }

        var bytes = compressed.ToArray();
        await using var upstream = await TestUpstream.StartAsync(async context =>
        {
            context.Response.StatusCode = 400;
            context.Response.ContentType = "application/json";
            context.Response.Headers.ContentEncoding = "gzip";
            await context.Response.Body.WriteAsync(bytes);
        });
        await using var app = TestConfig.SingleModel(upstream.Address + "/v1").Start();
        using var client = app.CreateClient();

        using var response = await client.PostJsonAsync("/v1/chat/completions", """{"model":"test-model"}""");

        var error = await OpenAIError.AssertAsync(response, 400, "invalid_request_error", "context_length_exceeded");
        Assert.Equal("messages", error.GetProperty("param").GetString());
    }

    [Fact]
    public async Task Logs_AtTraceAfterBadKeysAndProviderErrors_NeverContainSecrets()
    {
        _upstream.Given(Request.Create().UsingPost()).RespondWith(Response.Create().WithStatusCode(401)
            .WithBody($$$"""{"error":{"message":"Incorrect API key provided: {{{TestKeys.ProviderSecret}}}","type":"x","param":null,"code":null}}"""));
        await using var app = GatewayApp.Start(TestConfig.SingleModel(_upstream.Url! + "/v1").ToJsonString(), minimumLevel: Microsoft.Extensions.Logging.LogLevel.Trace);
        using var client = app.CreateClient();
        using var wrong = app.CreateClient("sk-wrong-client-key-123456");

        using var first = await client.PostJsonAsync("/v1/chat/completions", """{"model":"test-model"}""");
        using var second = await wrong.PostJsonAsync("/v1/chat/completions", """{"model":"test-model"}""");

        Assert.Equal(502, (int)first.StatusCode);
        Assert.Equal(401, (int)second.StatusCode);
        var records = app.Logs.GetSnapshot();
        var logs = string.Join('\n', records.Select(r => r.Message + " " + r.Exception + " " + string.Join(",", r.StructuredState ?? [])));
        Assert.Contains(records, r => r.Level == Microsoft.Extensions.Logging.LogLevel.Debug);
        Assert.DoesNotContain(TestKeys.ProviderSecret, logs, StringComparison.Ordinal);
        Assert.DoesNotContain(TestKeys.Alpha, logs, StringComparison.Ordinal);
        Assert.DoesNotContain("sk-wrong-client-key", logs, StringComparison.Ordinal);
    }

    private static int ClosedPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private sealed class NonSeekableStream(byte[] data) : MemoryStream(data)
    {
        public override bool CanSeek => false;
    }
}
