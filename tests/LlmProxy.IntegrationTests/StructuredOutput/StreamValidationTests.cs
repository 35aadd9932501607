using System.Text;
using System.Text.Json;
using LlmProxy.IntegrationTests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using OpenAI;
using OpenAI.Chat;
using WireMock.ResponseBuilders;
using WireMock.Server;

namespace LlmProxy.IntegrationTests.StructuredOutput;

/// <summary>Streamed answers: chunks pass untouched, the verdict is an SSE comment before [DONE].</summary>
public sealed class StreamValidationTests : IDisposable
{
    private const string Schema = """{"type":"object","properties":{"name":{"type":"string"},"age":{"type":"integer"}},"required":["name","age"],"additionalProperties":false}""";
    private readonly WireMockServer _upstream = WireMockServer.Start();

    public void Dispose() => _upstream.Stop();

    private static string Chunk(object delta, string? finish = null)
        => "data: " + JsonSerializer.Serialize(new { id = "c", @object = "chat.completion.chunk", model = "upstream-model", choices = new[] { new { index = 0, delta, finish_reason = finish } } }) + "\n\n";

    private string Stream(params string[] pieces)
    {
        var body = new StringBuilder(Chunk(new { role = "assistant", content = "" }));
        foreach (var piece in pieces)
        {
            body.Append(Chunk(new { content = piece }));
        }

        body.Append(Chunk(new { }, "stop")).Append("data: [DONE]\n\n");
        _upstream.Given(WireMock.RequestBuilders.Request.Create().UsingPost()).RespondWith(Response.Create().WithStatusCode(200)
            .WithHeader("Content-Type", "text/event-stream").WithBody(body.ToString()));
        return body.ToString();
    }

    private static string Request()
        => """{"model":"test-model","stream":true,"messages":[{"role":"user","content":"who?"}],"response_format":{"type":"json_schema","json_schema":{"name":"person","strict":true,"schema":"""
            + Schema + "}}}";

    [Fact]
    public async Task Stream_ValidAnswerInPieces_ChunksUntouchedAndPassedCommentBeforeDone()
    {
        var sent = Stream("{\"name\":", "\"Ada\",\"ag", "e\":36}");
        await using var app = TestConfig.SingleModel(_upstream.Url + "/v1").Start();
        using var client = app.CreateClient();

        using var response = await client.PostJsonAsync("/v1/chat/completions", Request());
        var body = await response.Content.ReadAsStringAsync();

        Assert.Equal(sent.Replace("data: [DONE]", ": llmproxy-validation passed\n\ndata: [DONE]", StringComparison.Ordinal), body);
    }

    [Fact]
    public async Task Stream_InvalidAnswer_FailedCommentNamesTheViolation()
    {
        Stream("{\"name\":\"Ada\",", "\"age\":\"old\"}");
        await using var app = TestConfig.SingleModel(_upstream.Url + "/v1").Start();
        using var client = app.CreateClient();

        using var response = await client.PostJsonAsync("/v1/chat/completions", Request());
        var body = await response.Content.ReadAsStringAsync();

        var comment = body.Split('\n').Single(static l => l.StartsWith(": llmproxy-validation", StringComparison.Ordinal));
        Assert.StartsWith(": llmproxy-validation failed [", comment, StringComparison.Ordinal);
        Assert.Contains("\"path\":\"/choices/0/message/content/age\",\"keyword\":\"type\"", comment, StringComparison.Ordinal);
        Assert.EndsWith("data: [DONE]\n\n", body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Stream_RejectPolicyInvalidAnswer_EndsWithErrorEventAndNoDone()
    {
        var sent = Stream("{\"name\":\"Ada\"}");
        await using var app = StartWith(new System.Text.Json.Nodes.JsonObject { ["policy"] = "reject" });
        using var client = app.CreateClient();

        using var response = await client.PostJsonAsync("/v1/chat/completions", Request());
        var body = await response.Content.ReadAsStringAsync();

        // Every chunk went out as it came (pass-through); then the verdict, the error event, and no [DONE].
        Assert.StartsWith(sent[..sent.IndexOf("data: [DONE]", StringComparison.Ordinal)] + ": llmproxy-validation failed\n\ndata: {\"error\":", body, StringComparison.Ordinal);
        Assert.DoesNotContain("[DONE]", body, StringComparison.Ordinal);
        using var error = JsonDocument.Parse(body[(body.LastIndexOf("data: ", StringComparison.Ordinal) + 6)..]);
        Assert.Equal("structured_output_invalid", error.RootElement.GetProperty("error").GetProperty("code").GetString());
        Assert.Contains("required", error.RootElement.GetProperty("error").GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Stream_RejectPolicyAnswerGoesWrongEarly_StoppedAtOnceWithErrorEvent()
    {
        // The second piece already names a property the schema forbids; eight more pieces follow.
        var sent = Stream(["{\"name\":\"Ada\",", "\"nickname\":", .. Enumerable.Repeat("\"xxxxxxxx\"", 8)]);
        await using var app = StartWith(new System.Text.Json.Nodes.JsonObject { ["policy"] = "reject" });
        using var aborts = new Microsoft.Extensions.Diagnostics.Metrics.Testing.MetricCollector<long>(
            app.Services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>(), LlmProxy.Telemetry.LlmProxyMetrics.MeterName, "llmproxy.validation.early_aborts");
        using var saved = new Microsoft.Extensions.Diagnostics.Metrics.Testing.MetricCollector<long>(
            app.Services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>(), LlmProxy.Telemetry.LlmProxyMetrics.MeterName, "llmproxy.validation.tokens_saved");
        using var client = app.CreateClient();

        using var response = await client.PostJsonAsync("/v1/chat/completions", Request());
        var body = await response.Content.ReadAsStringAsync();

        var passed = body[..body.IndexOf(": llmproxy-validation failed", StringComparison.Ordinal)];
        Assert.DoesNotContain("nickname", passed, StringComparison.Ordinal);
        Assert.Contains("Ada", passed, StringComparison.Ordinal);
        Assert.DoesNotContain("xxxxxxxx", body, StringComparison.Ordinal);
        Assert.DoesNotContain("[DONE]", body, StringComparison.Ordinal);
        using var error = JsonDocument.Parse(body[(body.LastIndexOf("data: ", StringComparison.Ordinal) + 6)..]);
        Assert.Equal("structured_output_invalid", error.RootElement.GetProperty("error").GetProperty("code").GetString());
        Assert.Contains("/choices/0/message/content/nickname additionalProperties", error.RootElement.GetProperty("error").GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Equal(1, Assert.Single(aborts.GetMeasurementSnapshot()).Value);
        // No max_tokens in the request: the cap is rate_limits.default_max_tokens (4096) less the few tokens generated.
        Assert.InRange(Assert.Single(saved.GetMeasurementSnapshot()).Value, 4000, 4095);
        Assert.True(sent.Length > body.Length);
    }

    private GatewayApp StartBuffered() => StartWith(new System.Text.Json.Nodes.JsonObject { ["policy"] = "reject", ["stream_mode"] = "buffer" });

    // The gateway with these structured_output settings on test-model.
    private GatewayApp StartWith(System.Text.Json.Nodes.JsonObject structuredOutput)
    {
        var config = TestConfig.SingleModel(_upstream.Url + "/v1");
        config["models"]!["test-model"]!["structured_output"] = structuredOutput;
        return config.Start();
    }

    [Fact]
    public async Task Buffer_ValidAnswer_SameEventsAfterValidationWithComment()
    {
        var sent = Stream("{\"name\":", "\"Ada\",\"age\":36}");
        await using var app = StartBuffered();
        using var client = app.CreateClient();

        using var response = await client.PostJsonAsync("/v1/chat/completions", Request());

        Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(sent.Replace("data: [DONE]", ": llmproxy-validation passed\n\ndata: [DONE]", StringComparison.Ordinal), await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Buffer_InvalidAnswer_422JsonAndNoEvents()
    {
        Stream("{\"name\":\"Ada\",", "\"age\":\"old\"}");
        await using var app = StartBuffered();
        using var client = app.CreateClient();

        using var response = await client.PostJsonAsync("/v1/chat/completions", Request());

        var error = await OpenAIError.AssertAsync(response, 422, "invalid_response_error", "structured_output_invalid");
        Assert.Contains("/choices/0/message/content/age type", error.GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Buffer_AnswerGoesWrongEarly_422WithTheEarlyViolation()
    {
        Stream(["{\"name\":\"Ada\",", "\"nickname\":", .. Enumerable.Repeat("\"xxxxxxxx\"", 8)]);
        await using var app = StartBuffered();
        using var client = app.CreateClient();

        using var response = await client.PostJsonAsync("/v1/chat/completions", Request());

        var error = await OpenAIError.AssertAsync(response, 422, "invalid_response_error", "structured_output_invalid");
        Assert.Contains("/choices/0/message/content/nickname additionalProperties", error.GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Stream_RejectToolArgumentsGoWrongEarly_StoppedWithTheArgumentPath()
    {
        static string Call(object call) => "data: " + JsonSerializer.Serialize(new { id = "c", @object = "chat.completion.chunk", model = "m", choices = new[] { new { index = 0, delta = new { tool_calls = new[] { call } }, finish_reason = (string?)null } } }) + "\n\n";
        var body = Call(new { index = 0, id = "call_1", type = "function", function = new { name = "get_weather", arguments = "" } })
            + Call(new { index = 0, function = new { arguments = "{\"city\":" } })
            + Call(new { index = 0, function = new { arguments = "42" } })
            + Call(new { index = 0, function = new { arguments = ",\"unit\":\"c\"}" } })
            + "data: [DONE]\n\n";
        _upstream.Given(WireMock.RequestBuilders.Request.Create().UsingPost()).RespondWith(Response.Create().WithStatusCode(200)
            .WithHeader("Content-Type", "text/event-stream").WithBody(body));
        await using var app = StartWith(new System.Text.Json.Nodes.JsonObject { ["policy"] = "reject" });
        using var client = app.CreateClient();
        var request = """{"model":"test-model","stream":true,"messages":[],"tools":[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"],"additionalProperties":false}}}]}""";

        using var response = await client.PostJsonAsync("/v1/chat/completions", request);
        var text = await response.Content.ReadAsStringAsync();

        Assert.DoesNotContain("unit", text, StringComparison.Ordinal);
        using var error = JsonDocument.Parse(text[(text.LastIndexOf("data: ", StringComparison.Ordinal) + 6)..]);
        Assert.Contains("/choices/0/message/tool_calls/0/function/arguments/city type", error.RootElement.GetProperty("error").GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("data: [DONE]")]
    [InlineData("")]
    public async Task Stream_EndsWithoutBlankLineOrDone_StillValidatedAndRejected(string ending)
    {
        var body = Chunk(new { role = "assistant", content = "" }) + Chunk(new { content = "{\"name\":\"Ada\"}" }) + Chunk(new { }, "stop") + ending;
        _upstream.Given(WireMock.RequestBuilders.Request.Create().UsingPost()).RespondWith(Response.Create().WithStatusCode(200)
            .WithHeader("Content-Type", "text/event-stream").WithBody(body));
        await using var app = StartWith(new System.Text.Json.Nodes.JsonObject { ["policy"] = "reject" });
        using var client = app.CreateClient();

        using var response = await client.PostJsonAsync("/v1/chat/completions", Request());
        var text = await response.Content.ReadAsStringAsync();

        Assert.DoesNotContain("[DONE]", text, StringComparison.Ordinal);
        Assert.Contains(": llmproxy-validation failed", text, StringComparison.Ordinal);
        Assert.Contains("structured_output_invalid", text[text.LastIndexOf("data: ", StringComparison.Ordinal)..], StringComparison.Ordinal);
    }

    [Fact]
    public async Task BufferRetry_InvalidThenValidStream_SecondStreamSentWithAttempts()
    {
        string StreamOf(string content) => Chunk(new { role = "assistant", content = "" }) + Chunk(new { content }) + Chunk(new { }, "stop") + "data: [DONE]\n\n";
        _upstream.Given(WireMock.RequestBuilders.Request.Create().UsingPost()).InScenario("s").WillSetStateTo("second")
            .RespondWith(Response.Create().WithStatusCode(200).WithHeader("Content-Type", "text/event-stream").WithBody(StreamOf("{\"name\":\"Ada\"}")));
        var valid = StreamOf("{\"name\":\"Ada\",\"age\":36}");
        _upstream.Given(WireMock.RequestBuilders.Request.Create().UsingPost()).InScenario("s").WhenStateIs("second")
            .RespondWith(Response.Create().WithStatusCode(200).WithHeader("Content-Type", "text/event-stream").WithBody(valid));
        await using var app = StartWith(new System.Text.Json.Nodes.JsonObject { ["policy"] = "retry", ["stream_mode"] = "buffer" });
        using var client = app.CreateClient();

        using var response = await client.PostJsonAsync("/v1/chat/completions", Request());
        var body = await response.Content.ReadAsStringAsync();

        Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("2", response.Headers.GetValues("x-llmproxy-validation-attempts").Single());
        Assert.Equal(valid.Replace("data: [DONE]", ": llmproxy-validation passed\n\ndata: [DONE]", StringComparison.Ordinal), body);
        Assert.Equal(2, _upstream.LogEntries.Count());
        Assert.Contains("required", _upstream.LogEntries.Last().RequestMessage!.Body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task BufferRetry_EveryStreamInvalid_422AfterMaxAttempts()
    {
        Stream("{\"name\":\"Ada\"}");
        await using var app = StartWith(new System.Text.Json.Nodes.JsonObject { ["policy"] = "retry", ["stream_mode"] = "buffer", ["max_attempts"] = 3 });
        using var client = app.CreateClient();

        using var response = await client.PostJsonAsync("/v1/chat/completions", Request());

        await OpenAIError.AssertAsync(response, 422, "invalid_response_error", "structured_output_invalid");
        Assert.Equal("3", response.Headers.GetValues("x-llmproxy-validation-attempts").Single());
        Assert.Equal(3, _upstream.LogEntries.Count());
    }

    [Fact]
    public async Task Stream_NoSchema_NoComment()
    {
        var sent = Stream("hello");
        await using var app = TestConfig.SingleModel(_upstream.Url + "/v1").Start();
        using var client = app.CreateClient();

        using var response = await client.PostJsonAsync("/v1/chat/completions", """{"model":"test-model","stream":true,"messages":[]}""");

        Assert.Equal(sent, await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task OpenAISdk_StreamingWithSchema_IgnoresTheCommentAndGetsTheText()
    {
        Stream("{\"name\":\"Ada\",", "\"age\":36}");
        await using var app = TestConfig.SingleModel(_upstream.Url + "/v1").Start();
        var chat = new OpenAIClient(new System.ClientModel.ApiKeyCredential(TestKeys.Alpha), new OpenAIClientOptions { Endpoint = new Uri(app.BaseAddress, "v1") })
            .GetChatClient("test-model");
        var options = new ChatCompletionOptions { ResponseFormat = ChatResponseFormat.CreateJsonSchemaFormat("person", BinaryData.FromString(Schema), jsonSchemaIsStrict: true) };
        var text = new StringBuilder();

        await foreach (var update in chat.CompleteChatStreamingAsync([new UserChatMessage("who?")], options))
        {
            foreach (var part in update.ContentUpdate)
            {
                text.Append(part.Text);
            }
        }

        Assert.Equal("""{"name":"Ada","age":36}""", text.ToString());
    }
}
