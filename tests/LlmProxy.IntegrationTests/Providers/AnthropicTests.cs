using System.ClientModel;
using System.ClientModel.Primitives;
using System.Text.Json;
using System.Text.Json.Nodes;
using LlmProxy.IntegrationTests.Infrastructure;
using LlmProxy.Telemetry;
using Microsoft.Extensions.DependencyInjection;
using OpenAI;
using OpenAI.Chat;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;
using WireMock.Server;

namespace LlmProxy.IntegrationTests.Providers;

/// <summary>An Anthropic target behind the gateway (WireMock speaking the Messages API), called with the official OpenAI .NET SDK.</summary>
public sealed class AnthropicTests : IDisposable
{
    private const string Model = "claude";
    private const string UpstreamModel = "claude-sonnet-4-5";
    private readonly WireMockServer _upstream = WireMockServer.Start();
    private readonly CapturingSink _sink = new();

    public void Dispose() => _upstream.Stop();

    private static JsonObject Config(string baseUrl, Action<JsonObject>? model = null)
    {
        var route = new JsonObject { ["targets"] = new JsonArray(new JsonObject { ["provider"] = "claude-up", ["model"] = UpstreamModel }) };
        model?.Invoke(route);
        return new JsonObject
        {
            ["providers"] = new JsonObject
            {
                ["claude-up"] = new JsonObject { ["type"] = "anthropic", ["base_url"] = baseUrl, ["api_key"] = TestKeys.ProviderKeyReference },
            },
            ["models"] = new JsonObject { [Model] = route },
            ["keys"] = new JsonArray(new JsonObject { ["id"] = "alpha", ["hash"] = TestKeys.AlphaHash, ["models"] = new JsonArray("*") }),
        };
    }

    private GatewayApp Start(Action<JsonObject>? model = null, string? pricing = null)
    {
        var config = Config(_upstream.Url!, model);
        if (pricing is null)
        {
            return GatewayApp.Start(config.ToJsonString(), services => services.AddSingleton<IUsageSink>(_sink));
        }

        var directory = Directory.CreateTempSubdirectory("llmproxy-test-");
        File.WriteAllText(Path.Combine(directory.FullName, "pricing.json"), pricing);
        var path = Path.Combine(directory.FullName, "llmproxy.json");
        File.WriteAllText(path, config.ToJsonString());
        return GatewayApp.StartWithPath(path, directory, services => services.AddSingleton<IUsageSink>(_sink));
    }

    private static ChatClient Chat(GatewayApp app) => new OpenAIClient(new ApiKeyCredential(TestKeys.Alpha),
        new OpenAIClientOptions { Endpoint = new Uri(app.BaseAddress, "v1"), RetryPolicy = new ClientRetryPolicy(maxRetries: 0) }).GetChatClient(Model);

    private void Answer(string body, int status = 200, string contentType = "application/json", string? retryAfter = null)
    {
        var response = Response.Create().WithStatusCode(status).WithHeader("Content-Type", contentType).WithHeader("request-id", "req_anthropic_1").WithBody(body);
        if (retryAfter is not null)
        {
            response = response.WithHeader("retry-after", retryAfter);
        }

        _upstream.Given(Request.Create().WithPath("/v1/messages").UsingPost()).RespondWith(response);
    }

    private JsonElement SentBody() => JsonDocument.Parse(_upstream.LogEntries.Last().RequestMessage!.Body!).RootElement;

    [Fact]
    public async Task CompleteChat_AnthropicTarget_SendsMessagesRequestAndReturnsOpenAIAnswer()
    {
        Answer(AnthropicStubs.Message());
        await using var app = Start();

#pragma warning disable OPENAI001 // The developer role is marked for evaluation in this SDK version.
        ChatCompletion completion = await Chat(app).CompleteChatAsync(
            [new SystemChatMessage("Be brief."), new DeveloperChatMessage("Answer in English."), new UserChatMessage("Hi")],
            new ChatCompletionOptions { Temperature = 0.5f, StopSequences = { "END" }, EndUserId = "user-42" });
#pragma warning restore OPENAI001

        Assert.Equal("Hello from Claude", completion.Content[0].Text);
        Assert.Equal(ChatFinishReason.Stop, completion.FinishReason);
        Assert.Equal("claude-sonnet-4-5-20250929", completion.Model);
        Assert.Equal("msg_01XFDUDYJgAACzvnptvVoYEL", completion.Id);
        // 25 uncached + 10 cache read + 5 cache creation; 10 of them cached.
        Assert.Equal(40, completion.Usage.InputTokenCount);
        Assert.Equal(10, completion.Usage.InputTokenDetails.CachedTokenCount);
        Assert.Equal(12, completion.Usage.OutputTokenCount);
        Assert.Equal(52, completion.Usage.TotalTokenCount);

        var request = _upstream.LogEntries.Single().RequestMessage!;
        Assert.Equal("/v1/messages", request.Path);
        Assert.Equal(TestKeys.ProviderSecret, request.Headers!["x-api-key"].Single());
        Assert.Equal("2023-06-01", request.Headers["anthropic-version"].Single());
        Assert.False(request.Headers.ContainsKey("Authorization"));
        var sent = SentBody();
        Assert.Equal(UpstreamModel, sent.GetProperty("model").GetString());
        Assert.Equal("Be brief.\n\nAnswer in English.", sent.GetProperty("system").GetString());
        Assert.Equal(4096, sent.GetProperty("max_tokens").GetInt32());
        Assert.Equal(0.5, sent.GetProperty("temperature").GetDouble(), 3);
        Assert.Equal("END", sent.GetProperty("stop_sequences")[0].GetString());
        Assert.Equal("user-42", sent.GetProperty("metadata").GetProperty("user_id").GetString());
        var message = Assert.Single(sent.GetProperty("messages").EnumerateArray());
        Assert.Equal("user", message.GetProperty("role").GetString());
        Assert.Equal("Hi", message.GetProperty("content")[0].GetProperty("text").GetString());
    }

    [Fact]
    public async Task CompleteChat_ModelDefaultMaxTokens_SentWhenClientGivesNone()
    {
        Answer(AnthropicStubs.Message());
        await using var app = Start(model => model["default_max_tokens"] = 777);

        await Chat(app).CompleteChatAsync([new UserChatMessage("Hi")]);
        await Chat(app).CompleteChatAsync([new UserChatMessage("Hi")], new ChatCompletionOptions { MaxOutputTokenCount = 55 });

        var bodies = _upstream.LogEntries.Select(e => JsonDocument.Parse(e.RequestMessage!.Body!).RootElement.GetProperty("max_tokens").GetInt32()).ToList();
        Assert.Equal([777, 55], bodies);
    }

    [Theory]
    [InlineData("end_turn", "stop")]
    [InlineData("stop_sequence", "stop")]
    [InlineData("pause_turn", "stop")]
    [InlineData("max_tokens", "length")]
    [InlineData("model_context_window_exceeded", "length")]
    [InlineData("refusal", "content_filter")]
    public async Task CompleteChat_StopReason_MappedToFinishReason(string stopReason, string finishReason)
    {
        Answer(AnthropicStubs.Message(stopReason));
        await using var app = Start();
        using var client = app.CreateClient();

        using var response = await client.PostJsonAsync("/v1/chat/completions", """{"model":"claude","messages":[{"role":"user","content":"Hi"}]}""");
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());

        Assert.Equal(200, (int)response.StatusCode);
        Assert.Equal(finishReason, body.RootElement.GetProperty("choices")[0].GetProperty("finish_reason").GetString());
        Assert.Equal("req_anthropic_1", response.Headers.GetValues("request-id").Single());
    }

    [Fact]
    public async Task CompleteChatStreaming_TextStream_SdkGetsTextFinishAndUsage()
    {
        Answer(AnthropicStubs.TextStream, contentType: "text/event-stream");
        await using var app = Start();
        var text = new System.Text.StringBuilder();
        ChatFinishReason? finish = null;
        ChatTokenUsage? usage = null;

        await foreach (var update in Chat(app).CompleteChatStreamingAsync([new UserChatMessage("Hi")]))
        {
            foreach (var part in update.ContentUpdate)
            {
                text.Append(part.Text);
            }

            finish ??= update.FinishReason;
            usage ??= update.Usage;
        }

        Assert.Equal("Hello world", text.ToString());
        Assert.Equal(ChatFinishReason.Stop, finish);
        Assert.NotNull(usage);
        Assert.Equal(29, usage.InputTokenCount);
        Assert.Equal(4, usage.InputTokenDetails.CachedTokenCount);
        Assert.Equal(15, usage.OutputTokenCount);
        Assert.True(SentBody().GetProperty("stream").GetBoolean());
        var record = await _sink.NextAsync();
        Assert.Equal(new LlmProxy.Usage.TokenUsage(29, 15, 4, 0, Estimated: false), record.Usage);
        Assert.Equal("stop", record.FinishReason);
    }

    [Fact]
    public async Task Stream_ClientDidNotAskForUsage_NoUsageChunkAndDoneAtEnd()
    {
        Answer(AnthropicStubs.TextStream, contentType: "text/event-stream");
        await using var app = Start();
        using var client = app.CreateClient();

        using var response = await client.PostJsonAsync("/v1/chat/completions", """{"model":"claude","stream":true,"messages":[{"role":"user","content":"Hi"}]}""");
        var text = await response.Content.ReadAsStringAsync();

        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        Assert.DoesNotContain("\"usage\"", text, StringComparison.Ordinal);
        Assert.Contains("\"object\":\"chat.completion.chunk\"", text, StringComparison.Ordinal);
        Assert.Contains(": ping", text, StringComparison.Ordinal);
        Assert.EndsWith("data: [DONE]\n\n", text, StringComparison.Ordinal);
        // Metered all the same.
        var record = await _sink.NextAsync();
        Assert.Equal(15, record.Usage!.Value.Output);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Stream_MeteringOff_UsageChunkOnlyWhenTheClientAsked(bool asked)
    {
        Answer(AnthropicStubs.TextStream, contentType: "text/event-stream");
        var config = Config(_upstream.Url!);
        config["telemetry"] = new JsonObject { ["metering"] = false };
        await using var app = GatewayApp.Start(config.ToJsonString());
        using var client = app.CreateClient();
        var options = asked ? ""","stream_options":{"include_usage":true}""" : "";

        using var response = await client.PostJsonAsync("/v1/chat/completions", """{"model":"claude","stream":true""" + options + ""","messages":[{"role":"user","content":"Hi"}]}""");
        var text = await response.Content.ReadAsStringAsync();

        Assert.Equal(asked, text.Contains("\"usage\"", StringComparison.Ordinal));
        Assert.EndsWith("data: [DONE]\n\n", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CompleteChat_ToolUse_ToolCallsAndRoundTripOfTheResult()
    {
        Answer(AnthropicStubs.ToolUse);
        await using var app = Start();
        var chat = Chat(app);
        var tool = ChatTool.CreateFunctionTool("get_weather", "Weather of a place",
            BinaryData.FromString("""{"type":"object","properties":{"location":{"type":"string"}},"required":["location"]}"""));
        var options = new ChatCompletionOptions { Tools = { tool }, ToolChoice = ChatToolChoice.CreateRequiredChoice(), AllowParallelToolCalls = false };
        List<ChatMessage> messages = [new UserChatMessage("Weather in SF?")];

        ChatCompletion first = await chat.CompleteChatAsync(messages, options);
        var call = Assert.Single(first.ToolCalls);
        Assert.Equal(ChatFinishReason.ToolCalls, first.FinishReason);
        Assert.Equal("toolu_01A09q90qw90lq917835lq9", call.Id);
        Assert.Equal("get_weather", call.FunctionName);
        Assert.Equal("San Francisco, CA", JsonDocument.Parse(call.FunctionArguments.ToString()).RootElement.GetProperty("location").GetString());
        var sentFirst = SentBody();
        Assert.Equal("object", sentFirst.GetProperty("tools")[0].GetProperty("input_schema").GetProperty("type").GetString());
        Assert.Equal("any", sentFirst.GetProperty("tool_choice").GetProperty("type").GetString());
        Assert.True(sentFirst.GetProperty("tool_choice").GetProperty("disable_parallel_tool_use").GetBoolean());

        messages.Add(new AssistantChatMessage(first));
        messages.Add(new ToolChatMessage(call.Id, "15 degrees"));
        Answer(AnthropicStubs.Message(text: "It is 15 degrees."));
        ChatCompletion second = await chat.CompleteChatAsync(messages, options);

        Assert.Equal("It is 15 degrees.", second.Content[0].Text);
        var sent = SentBody().GetProperty("messages");
        Assert.Equal(3, sent.GetArrayLength());
        var toolUse = sent[1].GetProperty("content").EnumerateArray().Single(b => b.GetProperty("type").GetString() == "tool_use");
        Assert.Equal(call.Id, toolUse.GetProperty("id").GetString());
        Assert.Equal("San Francisco, CA", toolUse.GetProperty("input").GetProperty("location").GetString());
        var result = sent[2].GetProperty("content")[0];
        Assert.Equal("user", sent[2].GetProperty("role").GetString());
        Assert.Equal("tool_result", result.GetProperty("type").GetString());
        Assert.Equal(call.Id, result.GetProperty("tool_use_id").GetString());
        Assert.Equal("15 degrees", result.GetProperty("content").GetString());
    }

    [Fact]
    public async Task CompleteChatStreaming_ToolUseAfterText_ToolCallNumberedZeroWithArguments()
    {
        Answer(AnthropicStubs.ToolStream, contentType: "text/event-stream");
        await using var app = Start();
        var arguments = new System.Text.StringBuilder();
        string? id = null;
        string? name = null;
        var indexes = new HashSet<int>();
        ChatFinishReason? finish = null;

        var options = new ChatCompletionOptions { Tools = { ChatTool.CreateFunctionTool("get_weather") } };
        await foreach (var update in Chat(app).CompleteChatStreamingAsync([new UserChatMessage("Weather?")], options))
        {
            foreach (var call in update.ToolCallUpdates)
            {
                indexes.Add(call.Index);
                id ??= call.ToolCallId;
                name ??= call.FunctionName;
                arguments.Append(call.FunctionArgumentsUpdate?.ToString());
            }

            finish ??= update.FinishReason;
        }

        Assert.Equal([0], indexes);
        Assert.Equal("toolu_01T1x1fJ34qAmk2tNTrN7Up6", id);
        Assert.Equal("get_weather", name);
        Assert.Equal("""{"location": "San Francisco, CA"}""", arguments.ToString());
        Assert.Equal(ChatFinishReason.ToolCalls, finish);
    }

    [Fact]
    public async Task CompleteChat_ResponseFormatJsonSchema_ForcedToolAnswerIsTheContentAndValidated()
    {
        Answer(AnthropicStubs.JsonAnswer);
        await using var app = Start(model => model["structured_output"] = new JsonObject { ["policy"] = "reject" });
        var schema = BinaryData.FromString("""{"type":"object","properties":{"name":{"type":"string"},"age":{"type":"integer"}},"required":["name","age"],"additionalProperties":false}""");

        ChatCompletion completion = await Chat(app).CompleteChatAsync([new UserChatMessage("Who?")],
            new ChatCompletionOptions { ResponseFormat = ChatResponseFormat.CreateJsonSchemaFormat("person", schema, jsonSchemaIsStrict: true) });

        Assert.Equal(ChatFinishReason.Stop, completion.FinishReason);
        Assert.Equal(36, JsonDocument.Parse(completion.Content[0].Text).RootElement.GetProperty("age").GetInt32());
        var sent = SentBody();
        Assert.Equal("json_response", sent.GetProperty("tool_choice").GetProperty("name").GetString());
        Assert.Equal("integer", sent.GetProperty("tools")[0].GetProperty("input_schema").GetProperty("properties").GetProperty("age").GetProperty("type").GetString());
    }

    [Fact]
    public async Task CompleteChat_ResponseFormatAnswerBreaksSchema_422UnderReject()
    {
        Answer(AnthropicStubs.JsonAnswer.Replace("36", "\"old\"", StringComparison.Ordinal));
        await using var app = Start(model => model["structured_output"] = new JsonObject { ["policy"] = "reject" });
        using var client = app.CreateClient();

        using var response = await client.PostJsonAsync("/v1/chat/completions",
            """{"model":"claude","messages":[{"role":"user","content":"Who?"}],"response_format":{"type":"json_schema","json_schema":{"name":"p","schema":{"type":"object","properties":{"age":{"type":"integer"}},"required":["age"]}}}}""");

        await OpenAIError.AssertAsync(response, 422, "invalid_response_error", "structured_output_invalid");
    }

    [Fact]
    public async Task CompleteChat_RetryPolicyAndInvalidFirstAnswer_AskedAgainInAnthropicShapeWithTheRepairTurn()
    {
        _upstream.Given(Request.Create().WithPath("/v1/messages").UsingPost()).InScenario("retry").WillSetStateTo("second")
            .RespondWith(Response.Create().WithStatusCode(200).WithHeader("Content-Type", "application/json")
                .WithBody(AnthropicStubs.JsonAnswer.Replace("36", "\"old\"", StringComparison.Ordinal)));
        _upstream.Given(Request.Create().WithPath("/v1/messages").UsingPost()).InScenario("retry").WhenStateIs("second")
            .RespondWith(Response.Create().WithStatusCode(200).WithHeader("Content-Type", "application/json").WithBody(AnthropicStubs.JsonAnswer));
        await using var app = Start(model => model["structured_output"] = new JsonObject { ["policy"] = "retry" });
        using var client = app.CreateClient();

        using var response = await client.PostJsonAsync("/v1/chat/completions",
            """{"model":"claude","messages":[{"role":"user","content":"Who?"}],"response_format":{"type":"json_schema","json_schema":{"name":"p","schema":{"type":"object","properties":{"age":{"type":"integer"}},"required":["age"]}}}}""");
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());

        Assert.Equal(200, (int)response.StatusCode);
        Assert.Equal("2", response.Headers.GetValues("x-llmproxy-validation-attempts").Single());
        Assert.Equal(36, JsonDocument.Parse(body.RootElement.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString()!).RootElement.GetProperty("age").GetInt32());
        Assert.Equal(2, _upstream.LogEntries.Count());
        var second = SentBody();
        // The retry went out as a Messages request: the invalid answer as an assistant turn, the violations as a user turn.
        Assert.Equal(UpstreamModel, second.GetProperty("model").GetString());
        var messages = second.GetProperty("messages");
        Assert.Equal(3, messages.GetArrayLength());
        Assert.Equal("assistant", messages[1].GetProperty("role").GetString());
        Assert.Contains("schema", messages[2].GetProperty("content")[0].GetProperty("text").GetString(), StringComparison.Ordinal);
        Assert.Equal("json_response", second.GetProperty("tool_choice").GetProperty("name").GetString());
    }

    [Fact]
    public async Task CompleteChat_Anthropic529WithUnreadableBody_Still503()
    {
        Answer(new string('x', 300 * 1024), 529);
        await using var app = Start();
        using var client = app.CreateClient();

        using var response = await client.PostJsonAsync("/v1/chat/completions", """{"model":"claude","messages":[{"role":"user","content":"Hi"}]}""");

        await OpenAIError.AssertAsync(response, 503, "server_error", "upstream_error");
        Assert.Equal("true", response.Headers.GetValues("x-should-retry").Single());
    }

    [Theory]
    [InlineData(529, "overloaded_error", 503, "server_error", "overloaded", "true")]
    [InlineData(429, "rate_limit_error", 429, "requests", "rate_limit_exceeded", "true")]
    [InlineData(500, "api_error", 500, "server_error", null, "true")]
    [InlineData(400, "invalid_request_error", 400, "invalid_request_error", null, "false")]
    [InlineData(404, "not_found_error", 404, "invalid_request_error", "model_not_found", "false")]
    [InlineData(413, "request_too_large", 413, "invalid_request_error", "request_too_large", "false")]
    [InlineData(403, "permission_error", 403, "permission_error", null, "false")]
    public async Task CompleteChat_AnthropicError_OpenAIShapedWithMappedStatus(int status, string anthropicType, int expected, string type, string? code, string shouldRetry)
    {
        Answer(AnthropicStubs.Error(anthropicType, "model: claude-x was not usable"), status, retryAfter: "7");
        await using var app = Start();
        using var client = app.CreateClient();

        using var response = await client.PostJsonAsync("/v1/chat/completions", """{"model":"claude","messages":[{"role":"user","content":"Hi"}]}""");

        var error = await OpenAIError.AssertAsync(response, expected, type, code);
        Assert.Equal("model: claude-x was not usable", error.GetProperty("message").GetString());
        Assert.Equal(shouldRetry, response.Headers.GetValues("x-should-retry").Single());
        Assert.Equal("7", response.Headers.GetValues("retry-after").Single());
    }

    [Fact]
    public async Task CompleteChat_Anthropic401_GatewayCredentialError502()
    {
        Answer(AnthropicStubs.Error("authentication_error", "invalid x-api-key"), 401);
        await using var app = Start();

        var thrown = await Assert.ThrowsAsync<ClientResultException>(() => Chat(app).CompleteChatAsync([new UserChatMessage("Hi")]));

        Assert.Equal(502, thrown.Status);
        Assert.Contains("upstream_auth_error", thrown.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Stream_ErrorEventAfterStart_EndsWithOpenAIErrorEvent()
    {
        Answer(AnthropicStubs.ErrorMidStream, contentType: "text/event-stream");
        await using var app = Start();
        using var client = app.CreateClient();

        using var response = await client.PostJsonAsync("/v1/chat/completions", """{"model":"claude","stream":true,"messages":[{"role":"user","content":"Hi"}]}""");
        var text = await response.Content.ReadAsStringAsync();

        Assert.Contains("\"content\":\"Partial\"", text, StringComparison.Ordinal);
        Assert.EndsWith("""data: {"error":{"message":"Overloaded","type":"server_error","param":null,"code":"overloaded"}}""" + "\n\n", text, StringComparison.Ordinal);
        Assert.DoesNotContain("[DONE]", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Stream_CutBeforeMessageStop_EndsWithTruncationErrorEvent()
    {
        Answer(AnthropicStubs.CutStream, contentType: "text/event-stream");
        await using var app = Start();
        using var client = app.CreateClient();

        using var response = await client.PostJsonAsync("/v1/chat/completions", """{"model":"claude","stream":true,"messages":[{"role":"user","content":"Hi"}]}""");
        var text = await response.Content.ReadAsStringAsync();

        Assert.Contains("\"content\":\"Partial\"", text, StringComparison.Ordinal);
        Assert.Contains("\"code\":\"upstream_error\"", text, StringComparison.Ordinal);
        Assert.DoesNotContain("[DONE]", text, StringComparison.Ordinal);
        Assert.DoesNotContain("\"usage\"", text, StringComparison.Ordinal);
        // Metered with the exact input tokens of message_start; no message_delta reported the output, which is estimated
        // from the text that passed ("Partial": 7 bytes → 2 tokens), not taken from message_start's count.
        var record = await _sink.NextAsync();
        Assert.Equal(new LlmProxy.Usage.TokenUsage(10, 2, 0, 0, Estimated: true), record.Usage);
    }

    [Fact]
    public async Task Stream_ErrorEventAfterStart_MeteredWithExactInputTokens()
    {
        Answer(AnthropicStubs.ErrorMidStream, contentType: "text/event-stream");
        await using var app = Start();
        using var client = app.CreateClient();

        using var response = await client.PostJsonAsync("/v1/chat/completions", """{"model":"claude","stream":true,"messages":[{"role":"user","content":"Hi"}]}""");
        _ = await response.Content.ReadAsStringAsync();

        // Input exact from message_start (not a byte estimate of the request); output estimated from "Partial".
        var record = await _sink.NextAsync();
        Assert.Equal(new LlmProxy.Usage.TokenUsage(10, 2, 0, 0, Estimated: true), record.Usage);
    }

    [Fact]
    public async Task CompleteChatStreaming_UndecodableStringInEvent_SdkGetsTheTextThenNoConnectionReset()
    {
        Answer(AnthropicStubs.UndecodableStream, contentType: "text/event-stream");
        await using var app = Start();
        var text = new System.Text.StringBuilder();
        ChatFinishReason? finish = null;
        Exception? failure = null;

        try
        {
            await foreach (var update in Chat(app).CompleteChatStreamingAsync([new UserChatMessage("Hi")]))
            {
                foreach (var part in update.ContentUpdate)
                {
                    text.Append(part.Text);
                }

                finish ??= update.FinishReason;
            }
        }
        catch (Exception ex)
        {
            failure = ex;
        }

        // The stream ended with the gateway's error event, read by the SDK like any event: no reset connection
        // ("response ended prematurely"), no invented finish.
        Assert.Null(failure);
        Assert.Equal("Partial", text.ToString());
        Assert.Null(finish);
    }

    [Fact]
    public async Task Stream_UndecodableStringInEvent_EndsWithOpenAIErrorEventAndMetersExactInput()
    {
        Answer(AnthropicStubs.UndecodableStream, contentType: "text/event-stream");
        await using var app = Start();
        using var client = app.CreateClient();

        using var response = await client.PostJsonAsync("/v1/chat/completions", """{"model":"claude","stream":true,"messages":[{"role":"user","content":"Hi"}]}""");
        var text = await response.Content.ReadAsStringAsync();

        Assert.Equal(200, (int)response.StatusCode);
        Assert.Contains("\"content\":\"Partial\"", text, StringComparison.Ordinal);
        var last = text.TrimEnd('\n').Split("\n\n")[^1];
        Assert.StartsWith("data: {\"error\":", last, StringComparison.Ordinal);
        Assert.DoesNotContain("[DONE]", text, StringComparison.Ordinal);
        Assert.DoesNotContain("finish_reason\":\"", text, StringComparison.Ordinal);
        var record = await _sink.NextAsync();
        Assert.Equal(10, record.Usage!.Value.Input);
        Assert.True(record.Usage.Value.Estimated);
    }

    [Fact]
    public async Task CompleteChat_UndecodableStringInAnswer_502AnswerCannotBeRead()
    {
        Answer(AnthropicStubs.Message(text: "\\ud800"));
        await using var app = Start();
        using var client = app.CreateClient();

        using var response = await client.PostJsonAsync("/v1/chat/completions", """{"model":"claude","messages":[{"role":"user","content":"Hi"}]}""");

        var error = await OpenAIError.AssertAsync(response, 502, "server_error", "upstream_error");
        Assert.Contains("cannot read", error.GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task CompleteChat_UndecodableStringInRequest_400AndNothingSent()
    {
        await using var app = Start();
        using var client = app.CreateClient();

        using var response = await client.PostJsonAsync("/v1/chat/completions", """{"model":"claude","messages":[{"role":"user","content":"a\ud800b"}]}""");

        await OpenAIError.AssertAsync(response, 400, "invalid_request_error", null);
        Assert.Empty(_upstream.LogEntries);
    }

    [Theory]
    [InlineData("/v1/embeddings", """{"model":"claude","input":"hi"}""", "embeddings")]
    [InlineData("/v1/completions", """{"model":"claude","prompt":"hi"}""", "/v1/chat/completions")]
    public async Task Post_OperationAnthropicLacks_Clear400AndNothingSent(string path, string body, string mention)
    {
        await using var app = Start();
        using var client = app.CreateClient();

        using var response = await client.PostJsonAsync(path, body);

        var error = await OpenAIError.AssertAsync(response, 400, "invalid_request_error", null);
        Assert.Contains(mention, error.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Empty(_upstream.LogEntries);
    }

    [Fact]
    public async Task CompleteChat_UntranslatableParameter_400NamingItAndNothingSent()
    {
        await using var app = Start();
        using var client = app.CreateClient();

        using var response = await client.PostJsonAsync("/v1/chat/completions", """{"model":"claude","n":3,"messages":[{"role":"user","content":"Hi"}]}""");

        var error = await OpenAIError.AssertAsync(response, 400, "invalid_request_error", null);
        Assert.Equal("n", error.GetProperty("param").GetString());
        Assert.Empty(_upstream.LogEntries);
    }

    [Fact]
    public async Task CompleteChat_PricingByProviderType_CostFromAnthropicEntry()
    {
        Answer(AnthropicStubs.Message());
        await using var app = Start(pricing: """{"models":{"anthropic/claude-sonnet-4-5":{"input_per_1m":3,"output_per_1m":15,"cached_input_per_1m":0.3}}}""");

        await Chat(app).CompleteChatAsync([new UserChatMessage("Hi")]);
        var record = await _sink.NextAsync();

        // 30 uncached × 3 + 10 cached × 0.3 + 12 output × 15, per million.
        Assert.Equal(0.000273m, record.CostUsd);
        Assert.Equal("claude-up", record.Provider);
    }

    [Fact]
    public async Task GetModels_AnthropicModel_Listed()
    {
        await using var app = Start();
        var models = await new OpenAIClient(new ApiKeyCredential(TestKeys.Alpha), new OpenAIClientOptions { Endpoint = new Uri(app.BaseAddress, "v1") })
            .GetOpenAIModelClient().GetModelsAsync();

        Assert.Contains(Model, models.Value.Select(m => m.Id));
    }
}
