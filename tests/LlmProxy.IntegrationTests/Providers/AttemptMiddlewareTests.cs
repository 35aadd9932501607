using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using LlmProxy.IntegrationTests.Infrastructure;
using WireMock.ResponseBuilders;
using WireMock.Server;

namespace LlmProxy.IntegrationTests.Providers;

/// <summary>Structured-output retries are attempts of the one forwarding path: YARP's forwarder with every transform.</summary>
public sealed class AttemptMiddlewareTests : IDisposable
{
    private const string Schema = """{"type":"object","properties":{"name":{"type":"string"},"age":{"type":"integer"}},"required":["name","age"],"additionalProperties":false}""";
    private readonly WireMockServer _first = WireMockServer.Start();
    private readonly WireMockServer _second = WireMockServer.Start();

    public void Dispose()
    {
        _first.Stop();
        _second.Stop();
    }

    private static string Request(bool stream = false)
        => """{"model":"test-model","stream":""" + (stream ? "true" : "false")
            + ""","messages":[{"role":"user","content":"who?"}],"response_format":{"type":"json_schema","json_schema":{"name":"person","strict":true,"schema":"""
            + Schema + "}}}";

    private static string Completion(string content)
        => JsonSerializer.Serialize(new
        {
            id = "chatcmpl-1",
            @object = "chat.completion",
            model = "m",
            choices = new[] { new { index = 0, message = new { role = "assistant", content }, finish_reason = "stop" } },
            usage = new { prompt_tokens = 30, completion_tokens = 12, total_tokens = 42 },
        });

    private static string Chunks(string content)
        => "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":{\"content\":" + JsonSerializer.Serialize(content) + "},\"finish_reason\":null}]}\n\n"
            + "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\ndata: [DONE]\n\n";

    private static void Answer(WireMockServer server, string contentType, string body)
        => server.Given(WireMock.RequestBuilders.Request.Create().UsingPost()).RespondWith(Response.Create().WithStatusCode(200)
            .WithHeader("Content-Type", contentType).WithBody(body));

    // test-model on two providers; the first is all but certain to be load balancing's pick (weight 1,000,000 to 1).
    private GatewayApp StartTwoTargets(JsonObject structuredOutput)
    {
        var config = TestConfig.SingleModel(_first.Url + "/v1");
        config["providers"]!["b"] = new JsonObject { ["type"] = "openai-compatible", ["base_url"] = _second.Url + "/v1", ["api_key"] = TestKeys.ProviderKeyReference };
        config["models"]!["test-model"]!["targets"] = new JsonArray(
            new JsonObject { ["provider"] = "up", ["model"] = "upstream-model", ["weight"] = 1_000_000 },
            new JsonObject { ["provider"] = "b", ["model"] = "b-model", ["weight"] = 1 });
        config["models"]!["test-model"]!["structured_output"] = structuredOutput;
        return config.Start();
    }

    [Fact]
    public async Task Retry_NextTarget_SecondAttemptForwardedLikeTheFirstToTheNextUpstream()
    {
        Answer(_first, "application/json", Completion("""{"name":"Ada"}"""));
        Answer(_second, "application/json", Completion("""{"name":"Ada","age":36}"""));
        await using var app = StartTwoTargets(new JsonObject { ["policy"] = "retry" });
        using var client = app.CreateClient();
        using var message = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions?client=query") { Content = new StringContent(Request(), System.Text.Encoding.UTF8, "application/json") };
        message.Headers.TryAddWithoutValidation("OpenAI-Beta", "assistants=v2");
        message.Headers.TryAddWithoutValidation("Cookie", "session=abc");

        using var response = await client.SendAsync(message);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("2", response.Headers.GetValues("x-llmproxy-validation-attempts").Single());
        Assert.Single(response.Headers.GetValues("x-request-id"));
        var first = Assert.Single(_first.LogEntries).RequestMessage!;
        var second = Assert.Single(_second.LogEntries).RequestMessage!;
        Assert.Equal(first.Path, second.Path);
        Assert.Equal("/v1/chat/completions", second.Path);
        Assert.Equal(first.Query, second.Query);
        Assert.Equal(first.Headers!.Keys.Order(StringComparer.OrdinalIgnoreCase), second.Headers!.Keys.Order(StringComparer.OrdinalIgnoreCase));
        foreach (var received in new[] { first, second })
        {
            Assert.Equal("Bearer " + TestKeys.ProviderSecret, received.Headers!["Authorization"].Single());
            Assert.Equal("assistants=v2", received.Headers["OpenAI-Beta"].Single());
            Assert.False(received.Headers.ContainsKey("Cookie"));
            Assert.DoesNotContain(received.Headers.Values.SelectMany(static v => v), static v => v.Contains(TestKeys.Alpha, StringComparison.Ordinal));
        }

        using var retried = JsonDocument.Parse(second.Body!);
        Assert.Equal("b-model", retried.RootElement.GetProperty("model").GetString());
        Assert.Equal(3, retried.RootElement.GetProperty("messages").GetArrayLength());
        Assert.Equal(second.Body!.Length, int.Parse(second.Headers["Content-Length"].Single(), System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact]
    public async Task Retry_SameTargetBufferedStream_EachAttemptPreparedByTargetMiddleware()
    {
        _first.Given(WireMock.RequestBuilders.Request.Create().UsingPost()).InScenario("s").WillSetStateTo("second")
            .RespondWith(Response.Create().WithStatusCode(200).WithHeader("Content-Type", "text/event-stream").WithBody(Chunks("""{"name":"Ada"}""")));
        _first.Given(WireMock.RequestBuilders.Request.Create().UsingPost()).InScenario("s").WhenStateIs("second")
            .RespondWith(Response.Create().WithStatusCode(200).WithHeader("Content-Type", "text/event-stream").WithBody(Chunks("""{"name":"Ada","age":36}""")));
        await using var app = StartTwoTargets(new JsonObject { ["policy"] = "retry", ["stream_mode"] = "buffer", ["retry_target"] = "same", ["repair_message"] = false });
        using var client = app.CreateClient();

        using var response = await client.PostJsonAsync("/v1/chat/completions", Request(stream: true));
        var body = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(Chunks("""{"name":"Ada","age":36}""").Replace("data: [DONE]", ": llmproxy-validation passed\n\ndata: [DONE]", StringComparison.Ordinal), body);
        Assert.Empty(_second.LogEntries);
        var requests = _first.LogEntries.Select(static e => e.RequestMessage!).ToArray();
        Assert.Equal(2, requests.Length);
        // The same request both times: upstream model name and the usage option the gateway adds, spliced in again.
        Assert.Equal(requests[0].Body, requests[1].Body);
        Assert.Contains("\"model\":\"upstream-model\"", requests[1].Body!, StringComparison.Ordinal);
        Assert.Contains("\"include_usage\":true", requests[1].Body!, StringComparison.Ordinal);
        Assert.Equal("Bearer " + TestKeys.ProviderSecret, requests[1].Headers!["Authorization"].Single());
    }

    [Fact]
    public async Task Retry_ValidFirstAnswer_OneAttemptAndNoAttemptsHeader()
    {
        Answer(_first, "application/json", Completion("""{"name":"Ada","age":36}"""));
        await using var app = StartTwoTargets(new JsonObject { ["policy"] = "retry" });
        using var client = app.CreateClient();

        using var response = await client.PostJsonAsync("/v1/chat/completions", Request());

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.False(response.Headers.Contains("x-llmproxy-validation-attempts"));
        Assert.Single(_first.LogEntries);
        Assert.Empty(_second.LogEntries);
    }
}
