using System.ClientModel;
using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using LlmProxy.IntegrationTests.Infrastructure;
using LlmProxy.StructuredOutput;
using LlmProxy.Telemetry;
using Microsoft.Extensions.DependencyInjection;
using OpenAI;
using OpenAI.Chat;
using WireMock.ResponseBuilders;
using WireMock.Server;

namespace LlmProxy.IntegrationTests.StructuredOutput;

/// <summary>Answers checked against the schema their request carried, through the gateway, with WireMock providers.</summary>
public sealed class StructuredOutputTests : IDisposable
{
    private const string Schema = """{"type":"object","properties":{"name":{"type":"string"},"age":{"type":"integer"}},"required":["name","age"],"additionalProperties":false}""";
    private readonly WireMockServer _upstream = WireMockServer.Start();
    private readonly CapturingSink _sink = new();

    public void Dispose() => _upstream.Stop();

    private static string Request(string schema = Schema)
        => """{"model":"test-model","messages":[{"role":"user","content":"who?"}],"response_format":{"type":"json_schema","json_schema":{"name":"person","strict":true,"schema":"""
            + schema + "}}}";

    private void Answer(string content, string finish = "stop")
    {
        var body = JsonSerializer.Serialize(new
        {
            id = "chatcmpl-9",
            @object = "chat.completion",
            model = "upstream-model",
            choices = new[] { new { index = 0, message = new { role = "assistant", content }, finish_reason = finish } },
            usage = new { prompt_tokens = 30, completion_tokens = 12, total_tokens = 42 },
        });
        _upstream.Given(WireMock.RequestBuilders.Request.Create().UsingPost()).RespondWith(Response.Create().WithStatusCode(200)
            .WithHeader("Content-Type", "application/json").WithBody(body));
    }

    private GatewayApp Start(string? policy = null, bool allowOverride = false)
    {
        var config = TestConfig.SingleModel(_upstream.Url + "/v1");
        if (policy is not null)
        {
            config["models"]!["test-model"]!["structured_output"] = new JsonObject { ["policy"] = policy, ["allow_header_override"] = allowOverride };
        }

        return GatewayApp.Start(config.ToJsonString(), services => services.AddSingleton<IUsageSink>(_sink));
    }

    [Fact]
    public async Task Annotate_ValidAnswer_PassedHeaderAndBodyUnchanged()
    {
        Answer("""{"name":"Ada","age":36}""");
        await using var app = Start();
        using var client = app.CreateClient();

        using var response = await client.PostJsonAsync("/v1/chat/completions", Request());

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("passed", response.Headers.GetValues("x-llmproxy-validation").Single());
        Assert.Equal(_upstream.LogEntries.Single().ResponseMessage!.BodyData!.BodyAsString, await response.Content.ReadAsStringAsync());
        Assert.Equal(42, (await _sink.NextAsync()).Usage!.Value.Total);
    }

    [Fact]
    public async Task Annotate_AnswerLargerThanValidationLimit_SkippedPassedWholeAndMetered()
    {
        Answer(new string('a', ValidatedJsonResponse.MaxBytes + 1000));
        await using var app = Start();
        using var client = app.CreateClient();

        using var response = await client.PostJsonAsync("/v1/chat/completions", Request());

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("skipped", response.Headers.GetValues("x-llmproxy-validation").Single());
        Assert.Equal(_upstream.LogEntries.Single().ResponseMessage!.BodyData!.BodyAsString!.Length, (await response.Content.ReadAsStringAsync()).Length);
        // Read from the end of the body, where the usage block is.
        var usage = (await _sink.NextAsync()).Usage!.Value;
        Assert.Equal((30, 12, false), (usage.Input, usage.Output, usage.Estimated));
    }

    [Fact]
    public async Task Annotate_InvalidAnswer_FailedHeaderAnswerPassedThrough()
    {
        Answer("""{"name":"Ada"}""");
        await using var app = Start();
        using var client = app.CreateClient();

        using var response = await client.PostJsonAsync("/v1/chat/completions", Request());

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("failed", response.Headers.GetValues("x-llmproxy-validation").Single());
        using var answer = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("""{"name":"Ada"}""", answer.RootElement.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString());
        // The log names the violation, never the content.
        var line = Assert.Single(app.Logs.GetSnapshot(), static r => r.Id.Id == 5001);
        Assert.Contains("/choices/0/message/content required", line.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("Ada", line.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Reject_InvalidAnswer_422ListingViolationsAndUsageStillMetered()
    {
        Answer("""{"name":"Ada","age":"old","extra":1}""");
        await using var app = Start("reject");
        using var client = app.CreateClient();

        using var response = await client.PostJsonAsync("/v1/chat/completions", Request());

        var error = await OpenAIError.AssertAsync(response, 422, "invalid_response_error", "structured_output_invalid");
        var message = error.GetProperty("message").GetString()!;
        Assert.Contains("/choices/0/message/content/age type:", message, StringComparison.Ordinal);
        Assert.Contains("/choices/0/message/content/extra additionalProperties:", message, StringComparison.Ordinal);
        Assert.Equal("failed", response.Headers.GetValues("x-llmproxy-validation").Single());
        var record = await _sink.NextAsync();
        Assert.Equal(ErrorCategory.ValidationFailed, record.Error);
        Assert.Equal(42, record.Usage!.Value.Total);
    }

    private void Answers(params string[] contents)
    {
        for (var i = 0; i < contents.Length; i++)
        {
            var body = JsonSerializer.Serialize(new
            {
                id = $"chatcmpl-{i}",
                @object = "chat.completion",
                model = "upstream-model",
                choices = new[] { new { index = 0, message = new { role = "assistant", content = contents[i] }, finish_reason = "stop" } },
                usage = new { prompt_tokens = 30, completion_tokens = 12, total_tokens = 42 },
            });
            var stub = _upstream.Given(WireMock.RequestBuilders.Request.Create().UsingPost()).InScenario("attempts");
            stub = i == 0 ? stub.WillSetStateTo("1") : stub.WhenStateIs($"{i}").WillSetStateTo($"{i + 1}");
            stub.RespondWith(Response.Create().WithStatusCode(200).WithHeader("Content-Type", "application/json").WithBody(body));
        }
    }

    [Fact]
    public async Task Retry_InvalidThenValid_SecondAnswerReturnedBothMetered()
    {
        Answers("""{"name":"Ada"}""", """{"name":"Ada","age":36}""");
        await using var app = Start("retry");
        var meters = app.Services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>();
        using var results = new Microsoft.Extensions.Diagnostics.Metrics.Testing.MetricCollector<long>(meters, LlmProxy.Telemetry.LlmProxyMetrics.MeterName, "llmproxy.validation.results");
        using var retries = new Microsoft.Extensions.Diagnostics.Metrics.Testing.MetricCollector<long>(meters, LlmProxy.Telemetry.LlmProxyMetrics.MeterName, "llmproxy.validation.retries");
        using var client = app.CreateClient();

        using var response = await client.PostJsonAsync("/v1/chat/completions", Request());

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("passed", response.Headers.GetValues("x-llmproxy-validation").Single());
        Assert.Equal("2", response.Headers.GetValues("x-llmproxy-validation-attempts").Single());
        // One result per attempt, by model, result and mode; one retry.
        Assert.Equal(["failed", "passed"], results.GetMeasurementSnapshot().Select(static m => (string)m.Tags["result"]!).ToArray());
        Assert.All(results.GetMeasurementSnapshot(), static m =>
        {
            Assert.Equal("test-model", m.Tags["gen_ai.request.model"]);
            Assert.Equal("retry", m.Tags["mode"]);
        });
        var retry = Assert.Single(retries.GetMeasurementSnapshot());
        Assert.Equal(1, retry.Value);
        Assert.Equal("test-model", retry.Tags["gen_ai.request.model"]);
        using var answer = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("chatcmpl-1", answer.RootElement.GetProperty("id").GetString());
        var requests = _upstream.LogEntries.Select(static e => e.RequestMessage!.Body!).ToArray();
        Assert.Equal(2, requests.Length);
        // The second request is the first one plus the invalid answer and its violations.
        using var retried = JsonDocument.Parse(requests[1]);
        Assert.Equal("upstream-model", retried.RootElement.GetProperty("model").GetString());
        var messages = retried.RootElement.GetProperty("messages");
        Assert.Equal(3, messages.GetArrayLength());
        Assert.Equal("""{"name":"Ada"}""", messages[1].GetProperty("content").GetString());
        Assert.Contains("/choices/0/message/content required", messages[2].GetProperty("content").GetString(), StringComparison.Ordinal);
        Assert.Equal(84, (await _sink.NextAsync()).Usage!.Value.Total);
    }

    [Fact]
    public async Task Retry_TwoTargets_SecondAttemptGoesToTheNextTarget()
    {
        Answers("""{"name":"Ada"}""");
        using var second = WireMockServer.Start();
        second.Given(WireMock.RequestBuilders.Request.Create().UsingPost()).RespondWith(Response.Create().WithStatusCode(200).WithHeader("Content-Type", "application/json")
            .WithBody("""{"id":"chatcmpl-b","object":"chat.completion","model":"b-model","choices":[{"index":0,"message":{"role":"assistant","content":"{\"name\":\"Ada\",\"age\":36}"},"finish_reason":"stop"}],"usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2}}"""));
        var config = TestConfig.SingleModel(_upstream.Url + "/v1");
        config["providers"]!["b"] = new JsonObject { ["type"] = "openai-compatible", ["base_url"] = second.Url + "/v1" };
        // The first target is all but certain to be chosen first (weight 1,000,000 to 1).
        config["models"]!["test-model"]!["targets"] = new JsonArray(
            new JsonObject { ["provider"] = "up", ["model"] = "upstream-model", ["weight"] = 1_000_000 },
            new JsonObject { ["provider"] = "b", ["model"] = "b-model", ["weight"] = 1 });
        config["models"]!["test-model"]!["structured_output"] = new JsonObject { ["policy"] = "retry" };
        await using var app = GatewayApp.Start(config.ToJsonString(), services => services.AddSingleton<IUsageSink>(_sink));
        using var client = app.CreateClient();

        using var response = await client.PostJsonAsync("/v1/chat/completions", Request());

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("passed", response.Headers.GetValues("x-llmproxy-validation").Single());
        Assert.Single(_upstream.LogEntries);
        using var retried = JsonDocument.Parse(second.LogEntries.Single().RequestMessage!.Body!);
        Assert.Equal("b-model", retried.RootElement.GetProperty("model").GetString());
        // Both attempts are charged; the record describes the answer the client got.
        var record = await _sink.NextAsync();
        Assert.Equal(new LlmProxy.Usage.TokenUsage(31, 13, 0, 0, false), record.Usage);
        Assert.Equal("b-model", record.ResponseModel);
        Assert.Equal("b", record.Provider);
    }

    [Fact]
    public async Task Retry_BodyRepeatsAPropertyTheGatewayDoesNotRead_AskedAgainWithoutTheRepairTurn()
    {
        Answers("""{"name":"Ada"}""", """{"name":"Ada","age":36}""");
        await using var app = Start("retry");
        using var client = app.CreateClient();
        var request = Request().Replace("{\"model\":\"test-model\",", "{\"model\":\"test-model\",\"temperature\":1,\"temperature\":1,", StringComparison.Ordinal);

        using var response = await client.PostJsonAsync("/v1/chat/completions", request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("passed", response.Headers.GetValues("x-llmproxy-validation").Single());
        var requests = _upstream.LogEntries.Select(static e => e.RequestMessage!.Body!).ToArray();
        Assert.Equal(2, requests.Length);
        Assert.Equal(requests[0], requests[1]);
    }

    [Fact]
    public async Task Retry_EveryAttemptInvalid_422AfterMaxAttempts()
    {
        Answers("""{"name":"Ada"}""", """{"age":36}""");
        await using var app = Start("retry");
        using var client = app.CreateClient();

        using var response = await client.PostJsonAsync("/v1/chat/completions", Request());

        await OpenAIError.AssertAsync(response, 422, "invalid_response_error", "structured_output_invalid");
        Assert.Equal("2", response.Headers.GetValues("x-llmproxy-validation-attempts").Single());
        Assert.Equal(2, _upstream.LogEntries.Count());
        var record = await _sink.NextAsync();
        Assert.Equal(84, record.Usage!.Value.Total);
        Assert.Equal(ErrorCategory.ValidationFailed, record.Error);
    }

    [Fact]
    public async Task Reject_LengthCut_SkippedAndPassedThrough()
    {
        Answer("""{"name":"A""", finish: "length");
        await using var app = Start("reject");
        using var client = app.CreateClient();

        using var response = await client.PostJsonAsync("/v1/chat/completions", Request());

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("skipped", response.Headers.GetValues("x-llmproxy-validation").Single());
    }

    [Fact]
    public async Task HeaderOverride_AllowedByConfig_RequestChoosesReject()
    {
        Answer("""{"name":"Ada"}""");
        await using var app = Start("annotate", allowOverride: true);
        using var client = app.CreateClient();
        client.DefaultRequestHeaders.Add("x-llmproxy-validation-policy", "reject");

        using var response = await client.PostJsonAsync("/v1/chat/completions", Request());

        Assert.Equal(422, (int)response.StatusCode);
    }

    [Fact]
    public async Task HeaderOverride_NotAllowed_ConfigPolicyStays()
    {
        Answer("""{"name":"Ada"}""");
        await using var app = Start("annotate");
        using var client = app.CreateClient();
        client.DefaultRequestHeaders.Add("x-llmproxy-validation-policy", "reject");

        using var response = await client.PostJsonAsync("/v1/chat/completions", Request());

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("failed", response.Headers.GetValues("x-llmproxy-validation").Single());
    }

    [Theory]
    [InlineData("""{"type":"object","properties":{"a":{"type":"string","pattern":"(["}}}""")]
    [InlineData("""{"type":"object","properties":{"a":{"$ref":"https://evil.example/schema.json"}}}""")]
    [InlineData("""{"type":"object","properties":{"a":{"$dynamicRef":"#nowhere"}}}""")]
    [InlineData("""{"type":"object","allOf":[{"$ref":"#"}]}""")]
    [InlineData("""{"type":"object","properties":{"a":{"type":"string","pattern":"\\p{Script=Greek}"}}}""")]
    [InlineData("""{"type":"object","properties":{"a":{"type":"number","multipleOf":1e-9999999}}}""")]
    public async Task InvalidSchema_400BeforeAnyProviderCall(string schema)
    {
        Answer("""{}""");
        await using var app = Start();
        using var client = app.CreateClient();

        using var response = await client.PostJsonAsync("/v1/chat/completions", Request(schema));

        var error = await OpenAIError.AssertAsync(response, 400, "invalid_request_error", null);
        Assert.Equal("response_format.json_schema.schema", error.GetProperty("param").GetString());
        Assert.Empty(_upstream.LogEntries);
    }

    [Fact]
    public async Task Reject_PatternRunsPastItsLimit_422NotPassedUnchecked()
    {
        Answer("{\"name\":\"" + new string('a', 40) + "!\",\"age\":1}");
        await using var app = Start("reject");
        using var client = app.CreateClient();
        var schema = """{"type":"object","properties":{"name":{"type":"string","pattern":"^(?=(a+)+$)"},"age":{"type":"integer"}},"required":["name","age"],"additionalProperties":false}""";

        using var response = await client.PostJsonAsync("/v1/chat/completions", Request(schema));

        var error = await OpenAIError.AssertAsync(response, 422, "invalid_response_error", "structured_output_invalid");
        Assert.Contains("/choices/0/message/content pattern:", error.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Equal("failed", response.Headers.GetValues("x-llmproxy-validation").Single());
    }

    [Fact]
    public async Task Reject_AnswerNumberTooLargeToCheck_422AndTheGatewayStillServes()
    {
        // Evaluated, multipleOf on this number would overflow the stack: the process would die.
        Answer("""{"name":"Ada","age":1e9999999}""");
        await using var app = Start("reject");
        using var client = app.CreateClient();
        var schema = """{"type":"object","properties":{"name":{"type":"string"},"age":{"type":"number","multipleOf":0.5}},"required":["name","age"],"additionalProperties":false}""";

        using var first = await client.PostJsonAsync("/v1/chat/completions", Request(schema));
        using var second = await client.PostJsonAsync("/v1/chat/completions", Request(schema));

        var error = await OpenAIError.AssertAsync(first, 422, "invalid_response_error", "structured_output_invalid");
        Assert.Contains("too large to check", error.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Equal(422, (int)second.StatusCode);
    }

    [Theory]
    [InlineData("""{"model":"test-model","messages":[],"response_format":"json"}""")]
    [InlineData("""{"model":"test-model","messages":[],"response_format":{"type":"json_schema"}}""")]
    [InlineData("""{"model":"test-model","messages":[],"response_format":{"type":"json_schema","json_schema":{"name":"x","schema":42}}}""")]
    [InlineData("""{"model":"test-model","messages":[],"response_format":{"type":"json_schema","json_schema":{"name":"x","schema":{"type":5}}}}""")]
    [InlineData("""{"model":"test-model","messages":[],"tools":"all"}""")]
    [InlineData("""{"model":"test-model","messages":[],"tools":[{"type":"function","function":{"name":"f","parameters":"abc"}}]}""")]
    [InlineData("""{"model":"test-model","messages":[],"tools":[{"type":"function","function":{"name":7}}, 3, null]}""")]
    public async Task OddSchemaInput_Never5xx(string request)
    {
        Answer("""{"name":"Ada","age":36}""");
        await using var app = Start("reject");
        using var client = app.CreateClient();

        using var response = await client.PostJsonAsync("/v1/chat/completions", request);

        Assert.InRange((int)response.StatusCode, 200, 499);
        if ((int)response.StatusCode >= 400)
        {
            await OpenAIError.AssertAsync(response, (int)response.StatusCode, "invalid_request_error", null);
        }
    }

    [Fact]
    public async Task NoSchema_NoValidationHeader()
    {
        Answer("""not json at all""");
        await using var app = Start("reject");
        using var client = app.CreateClient();

        using var response = await client.PostJsonAsync("/v1/chat/completions", """{"model":"test-model","messages":[]}""");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.False(response.Headers.Contains("x-llmproxy-validation"));
    }

    [Fact]
    public async Task ToolCall_ArgumentsBreakParameters_RejectedWithTheToolPath()
    {
        var body = """{"id":"c","object":"chat.completion","model":"upstream-model","choices":[{"index":0,"message":{"role":"assistant","content":null,"tool_calls":[{"id":"call_1","type":"function","function":{"name":"get_weather","arguments":"{\"city\":42}"}}]},"finish_reason":"tool_calls"}],"usage":{"prompt_tokens":5,"completion_tokens":5,"total_tokens":10}}""";
        _upstream.Given(WireMock.RequestBuilders.Request.Create().UsingPost()).RespondWith(Response.Create().WithStatusCode(200).WithHeader("Content-Type", "application/json").WithBody(body));
        await using var app = Start("reject");
        using var client = app.CreateClient();
        var request = """{"model":"test-model","messages":[],"tools":[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"],"additionalProperties":false}}}]}""";

        using var response = await client.PostJsonAsync("/v1/chat/completions", request);

        var error = await OpenAIError.AssertAsync(response, 422, "invalid_response_error", "structured_output_invalid");
        Assert.Contains("/choices/0/message/tool_calls/0/function/arguments/city type:", error.GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task OpenAISdk_StructuredOutputCall_ValidatedAndParsed()
    {
        Answer("""{"name":"Ada","age":36}""");
        await using var app = Start("reject");
        var chat = new OpenAIClient(new ApiKeyCredential(TestKeys.Alpha), new OpenAIClientOptions { Endpoint = new Uri(app.BaseAddress, "v1") }).GetChatClient("test-model");
        var options = new ChatCompletionOptions
        {
            ResponseFormat = ChatResponseFormat.CreateJsonSchemaFormat("person", BinaryData.FromString(Schema), jsonSchemaIsStrict: true),
        };

        var completion = await chat.CompleteChatAsync([new UserChatMessage("who?")], options);

        using var person = JsonDocument.Parse(completion.Value.Content[0].Text);
        Assert.Equal(36, person.RootElement.GetProperty("age").GetInt32());
        Assert.True(completion.GetRawResponse().Headers.TryGetValue("x-llmproxy-validation", out var verdict));
        Assert.Equal("passed", verdict);
        // The SDK sent the schema the gateway checked against.
        Assert.Contains("\"json_schema\"", _upstream.LogEntries.Single().RequestMessage!.Body, StringComparison.Ordinal);
    }
}
