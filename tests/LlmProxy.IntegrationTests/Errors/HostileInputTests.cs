using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using LlmProxy.IntegrationTests.Infrastructure;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;
using WireMock.Server;

namespace LlmProxy.IntegrationTests.Errors;

/// <summary>Client input that once earned an empty 500 (or a non-OpenAI answer): each is a clear 4xx now, decided before any provider call.</summary>
public sealed class HostileInputTests : IDisposable
{
    private const string Chat = "/v1/chat/completions";
    private readonly WireMockServer _upstream = WireMockServer.Start();

    public HostileInputTests() => _upstream.Given(Request.Create().UsingPost()).RespondWith(Response.Create().WithStatusCode(200)
        .WithHeader("Content-Type", "application/json").WithBody("""{"id":"x","object":"chat.completion","choices":[]}"""));

    public void Dispose() => _upstream.Stop();

    public static TheoryData<string, string> LoneSurrogates => new()
    {
        { Chat, """{"model":"test-model\udc00","messages":[]}""" },
        { Chat, """{"model":"test-model","x\udc00":1,"messages":[]}""" },
        { Chat, """{"model":"test-model","stream":true,"stream_options":{"include_usage\ud800":true}}""" },
        { Chat, """{"model":"test-model","messages":[{"role":"user","content":"hi \ud83d"}]}""" },
        { Chat, """{"model":"test-model","response_format":{"type":"json_schema","json_schema":{"name":"s","schema":{"type":"string","pattern":"a\udc00"}}}}""" },
        { Chat, """{"model":"test-model","response_format":{"type":"json_schema","json_schema":{"name":"s","schema":{"type":"object","properties":{"a\udc00":{"type":"string"}}}}}}""" },
        { Chat, """{"model":"test-model","response_format":{"type":"json_schema","json_schema":{"name":"s","schema":{"$ref":"#/$defs/a\udc00"}}}}""" },
        { Chat, """{"model":"test-model","response_format":{"type":"json\udc00"}}""" },
        { Chat, """{"model":"test-model","tools":[{"type":"function","function":{"name":"f\udc00","parameters":{"type":"object"}}}]}""" },
        { "/v1/embeddings", """{"model":"test-model\udc00","input":"x"}""" },
        { "/v1/responses", """{"model":"test-model\udc00","input":"x"}""" },
    };

    [Theory]
    [MemberData(nameof(LoneSurrogates))]
    public async Task Post_LoneSurrogateEscape_Returns400BeforeAnyProviderCall(string path, string body)
    {
        await using var app = TestConfig.SingleModel(_upstream.Url! + "/v1").Start();
        using var client = app.CreateClient();

        using var response = await client.PostJsonAsync(path, body);

        await OpenAIError.AssertAsync(response, 400, "invalid_request_error", null);
        Assert.Empty(_upstream.LogEntries);
    }

    [Fact]
    public async Task Post_PairedSurrogateEscape_IsForwarded()
    {
        await using var app = TestConfig.SingleModel(_upstream.Url! + "/v1").Start();
        using var client = app.CreateClient();

        using var response = await client.PostJsonAsync(Chat, """{"model":"test-model","messages":[{"role":"user","content":"\ud83d\ude00 \\udc00 is text"}]}""");

        Assert.Equal(200, (int)response.StatusCode);
        Assert.Single(_upstream.LogEntries);
    }

    [Theory]
    [InlineData("response_format")]
    [InlineData("tools")]
    public async Task Post_SchemaNestedDeeperThan64_Returns400BeforeAnyProviderCall(string where)
    {
        var schema = new StringBuilder();
        for (var i = 0; i < 40; i++)
        {
            schema.Append("""{"type":"object","properties":{"a":""");
        }

        schema.Append("""{"type":"string"}""").Append('}', 80);
        var body = where == "tools"
            ? """{"model":"test-model","tools":[{"type":"function","function":{"name":"f","parameters":""" + schema + "}}]}"
            : """{"model":"test-model","response_format":{"type":"json_schema","json_schema":{"name":"s","schema":""" + schema + "}}}";
        await using var app = TestConfig.SingleModel(_upstream.Url! + "/v1").Start();
        using var client = app.CreateClient();

        using var response = await client.PostJsonAsync(Chat, body);

        var error = await OpenAIError.AssertAsync(response, 400, "invalid_request_error", null);
        Assert.Contains("64 levels", error.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Empty(_upstream.LogEntries);
    }

    [Theory]
    [InlineData("""{"model":"test-model","stream":false,"stream":true}""", "stream")]
    [InlineData("""{"model":"test-model","max_tokens":1,"max_tokens":100000}""", "max_tokens")]
    [InlineData("""{"model":"test-model","messages":[],"mess\u0061ges":[]}""", "messages")]
    [InlineData("""{"model":"test-model","response_format":{"type":"text"},"response_format":{"type":"json_object"}}""", "response_format")]
    [InlineData("""{"model":"test-model","mod\u0065l":"other-model"}""", "model")]
    public async Task Post_PropertyTheGatewayReadsGivenTwice_Returns400NamingIt(string body, string param)
    {
        await using var app = TestConfig.SingleModel(_upstream.Url! + "/v1").Start();
        using var client = app.CreateClient();

        using var response = await client.PostJsonAsync(Chat, body);

        var error = await OpenAIError.AssertAsync(response, 400, "invalid_request_error", null);
        Assert.Equal(param, error.GetProperty("param").GetString());
        Assert.Empty(_upstream.LogEntries);
    }

    [Fact]
    public async Task Post_ChunkSizeThatOverflows_Returns400OverRawSocket()
    {
        await using var app = TestConfig.SingleModel(_upstream.Url! + "/v1").Start();
        var request = "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + TestKeys.Alpha
            + "\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nffffffff\r\n{\"model\":\"test-model\"}\r\n0\r\n\r\n";

        var (status, headers, body) = await RawHttp.SendAsync(app.BaseAddress, request);

        Assert.Equal(400, status);
        Assert.Contains("content-type: application/json", headers, StringComparison.OrdinalIgnoreCase);
        using var document = JsonDocument.Parse(body);
        Assert.Equal("invalid_request_error", document.RootElement.GetProperty("error").GetProperty("type").GetString());
        Assert.Empty(_upstream.LogEntries);
    }

    [Fact]
    public async Task Post_UnknownModelOfOneMegabyte_404DoesNotEchoTheName()
    {
        await using var app = TestConfig.SingleModel(_upstream.Url! + "/v1").Start();
        using var client = app.CreateClient();
        var name = new string('m', 1024 * 1024);

        using var response = await client.PostJsonAsync(Chat, $$"""{"model":"{{name}}"}""");

        var error = await OpenAIError.AssertAsync(response, 404, "invalid_request_error", "model_not_found");
        Assert.InRange(error.GetProperty("message").GetString()!.Length, 1, 400);
        Assert.InRange(response.Content.Headers.ContentLength ?? 0, 1, 600);
    }

    [Theory]
    [InlineData("abc")]
    [InlineData("-5")]
    [InlineData("99999999999999")]
    [InlineData("7")]
    public async Task Summary_WindowNotConfigured_Returns400InOpenAIShape(string window)
    {
        await using var app = TestConfig.SingleModel(_upstream.Url! + "/v1").Start();
        using var client = app.CreateClient(key: null);

        using var response = await client.GetAsync("/metrics/summary?window=" + window);

        var error = await OpenAIError.AssertAsync(response, 400, "invalid_request_error", null);
        Assert.Equal("window", error.GetProperty("param").GetString());
    }

    [Fact]
    public async Task Post_Provider431WithoutJson_KeepsStatusTypedAsARefusedRequest()
    {
        _upstream.Reset();
        _upstream.Given(Request.Create().UsingPost()).RespondWith(Response.Create().WithStatusCode(431)
            .WithHeader("Content-Type", "text/plain").WithBody("Request Header Fields Too Large"));
        await using var app = TestConfig.SingleModel(_upstream.Url! + "/v1").Start();
        using var client = app.CreateClient();

        using var response = await client.PostJsonAsync(Chat, """{"model":"test-model"}""");

        await OpenAIError.AssertAsync(response, 431, "invalid_request_error", "upstream_error");
    }

    [Fact]
    public async Task Responses_AnyEndpoint_CarryNoServerHeader()
    {
        await using var app = TestConfig.SingleModel(_upstream.Url! + "/v1").Start();
        using var client = app.CreateClient();

        using var forwarded = await client.PostJsonAsync(Chat, """{"model":"test-model"}""");
        using var health = await client.GetAsync("/health/live");

        Assert.Equal(200, (int)forwarded.StatusCode);
        Assert.False(forwarded.Headers.Contains("Server"));
        Assert.False(health.Headers.Contains("Server"));
    }

    [Fact]
    public async Task OpenApi_ClientSendsAnotherHost_ServersDoNotEchoIt()
    {
        await using var app = TestConfig.SingleModel(_upstream.Url! + "/v1").Start();
        using var client = app.CreateClient(key: null);
        using var request = new HttpRequestMessage(HttpMethod.Get, "/openapi/v1.json");
        request.Headers.Host = "attacker.example";

        using var response = await client.SendAsync(request);

        Assert.Equal(200, (int)response.StatusCode);
        var text = await response.Content.ReadAsStringAsync();
        Assert.DoesNotContain("attacker.example", text, StringComparison.Ordinal);
        var servers = JsonNode.Parse(text)!["servers"];
        Assert.True(servers is null || servers.AsArray().Count == 0);
    }

    [Fact]
    public async Task Embeddings_SimulatedProviderOverOpenAIsInputCap_Returns400()
    {
        await using var app = TestConfig.Simulated().Start();
        using var client = app.CreateClient();
        static string Body(int count) => new JsonObject
        {
            ["model"] = "sim-chat",
            ["input"] = new JsonArray([.. Enumerable.Range(0, count).Select(i => (JsonNode)("w" + i))]),
        }.ToJsonString();

        using var tooMany = await client.PostJsonAsync("/v1/embeddings", Body(2049));
        using var atCap = await client.PostJsonAsync("/v1/embeddings", Body(2048));

        var error = await OpenAIError.AssertAsync(tooMany, 400, "invalid_request_error", null);
        Assert.Equal("input", error.GetProperty("param").GetString());
        Assert.Equal(200, (int)atCap.StatusCode);
    }

    [Fact]
    public async Task Embeddings_SimulatedProviderAskedForMoreDimensionsThanOpenAIsLargest_Returns400()
    {
        await using var app = TestConfig.Simulated().Start();
        using var client = app.CreateClient();

        using var response = await client.PostJsonAsync("/v1/embeddings", """{"model":"sim-chat","input":["a","b"],"dimensions":8192}""");
        using var largest = await client.PostJsonAsync("/v1/embeddings", """{"model":"sim-chat","input":["a","b"],"dimensions":3072}""");

        var error = await OpenAIError.AssertAsync(response, 400, "invalid_request_error", null);
        Assert.Equal("dimensions", error.GetProperty("param").GetString());
        using var answer = JsonDocument.Parse(await largest.Content.ReadAsStringAsync());
        Assert.Equal(3072, answer.RootElement.GetProperty("data")[1].GetProperty("embedding").GetArrayLength());
    }

    /// <summary>HTTP/1.1 over a plain socket, for framings HttpClient will not send.</summary>
    private static class RawHttp
    {
        public static async Task<(int Status, string Headers, string Body)> SendAsync(Uri baseAddress, string request)
        {
            using var socket = new TcpClient();
            await socket.ConnectAsync(baseAddress.Host, baseAddress.Port);
            var stream = socket.GetStream();
            await stream.WriteAsync(Encoding.ASCII.GetBytes(request));
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
            var received = new MemoryStream();
            var buffer = new byte[4096];
            while (true)
            {
                var text = Encoding.UTF8.GetString(received.ToArray());
                var end = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
                if (end >= 0 && LengthOf(text[..end]) is { } length && Encoding.UTF8.GetByteCount(text[(end + 4)..]) >= length)
                {
                    var status = int.Parse(text.Split(' ', 3)[1], System.Globalization.CultureInfo.InvariantCulture);
                    return (status, text[..end], text[(end + 4)..]);
                }

                var read = await stream.ReadAsync(buffer, timeout.Token);
                Assert.True(read > 0, "the connection closed before a whole response arrived: " + text);
                received.Write(buffer, 0, read);
            }
        }

        private static int? LengthOf(string headers)
        {
            foreach (var line in headers.Split("\r\n"))
            {
                if (line.StartsWith("Content-Length:", StringComparison.OrdinalIgnoreCase))
                {
                    return int.Parse(line["Content-Length:".Length..].Trim(), System.Globalization.CultureInfo.InvariantCulture);
                }
            }

            return null;
        }
    }
}
