using System.Buffers;
using System.Text;
using System.Text.Json;
using LlmProxy.Providers.Anthropic;

namespace LlmProxy.Tests.Providers.Anthropic;

/// <summary>
/// Valid JSON with unexpected types or with strings no decoder accepts (lone surrogate escapes), from a client or from
/// a provider: an error result, a skipped event or an unreadable answer, never an exception.
/// </summary>
public sealed class AnthropicHostileInputTests
{
    private const string StartEvent = """{"type":"message_start","message":{"id":"m","model":"c","usage":{"input_tokens":1}}}""";

    private const string GenericStreamError = """error={"message":"The provider sent a stream error that is not an Anthropic error.","type":"server_error","param":null,"code":"upstream_error"}""";

    [Theory]
    [InlineData("""{"model":"m","messages":[{"role":"user","content":[{"type":5,"text":"x"}]}]}""")]
    [InlineData("""{"model":"m","messages":[{"role":"system","content":[{"type":5,"text":"x"}]},{"role":"user","content":"x"}]}""")]
    [InlineData("""{"model":"m","messages":[{"role":"user","content":"x"}],"response_format":{"type":1}}""")]
    [InlineData("""{"model":"m","messages":[{"role":"user","content":"x"}],"tools":[{"type":1,"function":{"name":"f"}}]}""")]
    [InlineData("""{"model":"m","messages":[{"role":"user","content":"x"}],"tools":[{"type":"function","function":{"name":5}}]}""")]
    [InlineData("""{"model":"m","messages":[{"role":"user","content":"x"}],"tool_choice":{"type":"function","function":{"name":[]}},"tools":[{"type":"function","function":{"name":"f"}}]}""")]
    [InlineData("""{"model":"m","messages":[{"role":"assistant","tool_calls":[{"id":5,"type":"function","function":{"name":"f","arguments":7}}]}]}""")]
    [InlineData("""{"model":"m","messages":[{"role":"tool","tool_call_id":{},"content":"x"}]}""")]
    [InlineData("""{"model":"m","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":5}}]}]}""")]
    [InlineData("""{"model":"m","messages":[{"role":"user","content":"x"}],"stop":[1,2]}""")]
    [InlineData("""{"model":"m","messages":[{"role":"user","content":"x"}],"user":5,"temperature":"hot","top_p":[],"max_tokens":1.5}""")]
    [InlineData("""{"model":"m","messages":[{"role":"user","content":"x"}],"response_format":{"type":"json_schema","json_schema":{"name":3,"schema":"x"}}}""")]
    public void Translate_WrongTypes_ErrorOrBodyNeverThrows(string body)
    {
        var result = AnthropicRequest.Translate(Encoding.UTF8.GetBytes(body), "c", 100);

        Assert.True(result.Body is not null || !string.IsNullOrEmpty(result.Error));
    }

    // Each string a JSON parser accepts but System.Text.Json cannot decode (GetString throws InvalidOperationException).
    [Theory]
    [InlineData("""{"model":"m","messages":[{"role":"user","content":"\ud800"}]}""")]
    [InlineData("""{"model":"m","messages":[{"role":"user","content":"x\udc00"}]}""")]
    [InlineData("""{"model":"m","messages":[{"role":"user","content":"\ud800\u0041"}]}""")]
    [InlineData("""{"model":"m","messages":[{"role":"user","content":[{"type":"text","text":"\ud800"}]}]}""")]
    [InlineData("""{"model":"m","messages":[{"role":"system","content":"\ud800"},{"role":"user","content":"x"}]}""")]
    [InlineData("""{"model":"m","messages":[{"role":"\ud800","content":"x"}]}""")]
    [InlineData("""{"model":"m","messages":[{"role":"user","content":"x"}],"stop":"\ud800"}""")]
    [InlineData("""{"model":"m","messages":[{"role":"user","content":"x"}],"stop":["a","\udfff"]}""")]
    [InlineData("""{"model":"m","messages":[{"role":"user","content":"x"}],"user":"\ud800"}""")]
    [InlineData("""{"model":"m","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"\ud800"}}]}]}""")]
    [InlineData("""{"model":"m","messages":[{"role":"assistant","tool_calls":[{"id":"\ud800","type":"function","function":{"name":"f","arguments":"{}"}}]}]}""")]
    [InlineData("""{"model":"m","messages":[{"role":"assistant","tool_calls":[{"id":"t","type":"function","function":{"name":"f","arguments":"\ud800"}}]}]}""")]
    [InlineData("""{"model":"m","messages":[{"role":"tool","tool_call_id":"\ud800","content":"x"}]}""")]
    [InlineData("""{"model":"m","messages":[{"role":"user","content":"x"}],"tools":[{"type":"function","function":{"name":"\ud800"}}]}""")]
    [InlineData("""{"model":"m","messages":[{"role":"user","content":"x"}],"tools":[{"type":"function","function":{"name":"f","description":"\ud800"}}]}""")]
    [InlineData("""{"model":"m","messages":[{"role":"user","content":"x"}],"tools":[{"type":"function","function":{"name":"f","parameters":{"type":"object","description":"\ud800"}}}]}""")]
    [InlineData("""{"model":"m","messages":[{"role":"user","content":"x"}],"tools":[{"type":"function","function":{"name":"f"}}],"tool_choice":"\ud800"}""")]
    [InlineData("""{"model":"m","messages":[{"role":"user","content":"x"}],"response_format":{"type":"\ud800"}}""")]
    [InlineData("""{"model":"m","messages":[{"role":"user","content":"x"}],"response_format":{"type":"json_schema","json_schema":{"name":"\ud800","schema":{"type":"object"}}}}""")]
    [InlineData("""{"model":"m","messages":[{"role":"user","content":"x"}],"response_format":{"type":"json_schema","json_schema":{"name":"p","schema":{"type":"object","properties":{"\ud800":{}}}}}}""")]
    public void Translate_UndecodableString_ErrorNeverThrows(string body)
    {
        var result = AnthropicRequest.Translate(Encoding.UTF8.GetBytes(body), "c", 100);

        Assert.Null(result.Body);
        Assert.False(string.IsNullOrEmpty(result.Error));
    }

    [Fact]
    public void Translate_UndecodableMessageText_ErrorSaysWhy()
    {
        var result = AnthropicRequest.Translate("""{"model":"m","messages":[{"role":"user","content":"\ud800"}]}"""u8, "c", 100);

        Assert.Equal(AnthropicRequest.UndecodableString, result.Error);
        Assert.Null(result.Param);
    }

    [Theory]
    [InlineData(new byte[] { 0xED, 0xA0, 0x80 })]
    [InlineData(new byte[] { 0xFF })]
    [InlineData(new byte[] { 0xC3 })]
    public void Translate_InvalidUtf8InString_UndecodableError(byte[] bad)
    {
        byte[] body = [.. "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\""u8, .. bad, .. "\"}]}"u8];

        var result = AnthropicRequest.Translate(body, "c", 100);

        Assert.Null(result.Body);
        Assert.Equal(AnthropicRequest.UndecodableString, result.Error);
    }

    [Theory]
    [InlineData("message_start", """{"type":"message_start","message":{"id":5,"model":[],"usage":{"input_tokens":"x"}}}""", """delta={"role":"assistant","content":""};finish=null""")]
    [InlineData("content_block_start", """{"type":"content_block_start","index":"0","content_block":{"type":"tool_use","id":1,"name":2}}""", "")]
    [InlineData("content_block_start", """{"type":"content_block_start","index":0,"content_block":"x"}""", "")]
    [InlineData("content_block_start", """{"type":"content_block_start","index":0,"content_block":{"type":"tool_use","id":1,"name":2}}""",
        """delta={"tool_calls":[{"index":0,"id":"","type":"function","function":{"name":"","arguments":""}}]};finish=null""")]
    [InlineData("content_block_delta", """{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":5}}""", "")]
    [InlineData("content_block_delta", """{"type":"content_block_delta","index":0,"delta":{"type":"input_json_delta","partial_json":{}}}""", "")]
    [InlineData("content_block_delta", """{"type":"content_block_delta","index":1.5,"delta":"x"}""", "")]
    [InlineData("message_delta", """{"type":"message_delta","delta":"x","usage":{"output_tokens":"many"}}""", "delta={};finish=stop")]
    [InlineData("message_delta", """{"type":"message_delta","delta":{"stop_reason":5},"usage":[]}""", "delta={};finish=stop")]
    [InlineData("error", """{"type":"error","error":{"type":5,"message":{}}}""", GenericStreamError)]
    [InlineData("error", """{"type":"error","error":"boom"}""", GenericStreamError)]
    [InlineData("message_stop", """[1,2]""", "")]
    [InlineData("message_stop", """not json""", "")]
    public void Translate_EventWithWrongTypes_SkippedOrDefaults(string type, string data, string expected)
    {
        var translator = new AnthropicStreamTranslator(null, 1, usageChunk: false);
        var output = new ArrayBufferWriter<byte>();
        Assert.True(translator.Translate("message_start", Encoding.UTF8.GetBytes(StartEvent), output));
        var before = output.WrittenCount;

        Assert.True(translator.Translate(type, Encoding.UTF8.GetBytes(data), output));

        Assert.Equal(expected, Describe(output.WrittenSpan[before..]));
        Assert.Equal(type == "error", translator.Finished);
        Assert.Equal(1, translator.Usage.Input);
        Assert.Equal(0, translator.Usage.Output);
    }

    [Theory]
    [InlineData("""{"type":"message_start","message":{"id":"\ud800","model":"c"}}""")]
    [InlineData("""{"type":"message_start","message":{"id":"m","model":"\udc00"}}""")]
    [InlineData("""{"type":"\ud800"}""")]
    [InlineData("""{"type":"content_block_start","index":0,"content_block":{"type":"text","text":"\ud800"}}""")]
    [InlineData("""{"type":"content_block_start","index":0,"content_block":{"type":"tool_use","id":"t","name":"\ud800"}}""")]
    [InlineData("""{"type":"content_block_start","index":0,"content_block":{"type":"tool_use","id":"\ud800","name":"f"}}""")]
    [InlineData("""{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"ok \ud800\u0041"}}""")]
    [InlineData("""{"type":"content_block_delta","index":0,"delta":{"type":"\udbff","text":"x"}}""")]
    [InlineData("""{"type":"message_delta","delta":{"stop_reason":"\ud800"},"usage":{"output_tokens":3}}""")]
    public void Translate_EventWithUndecodableString_FalseAndFinished(string data)
    {
        var translator = new AnthropicStreamTranslator(null, 1);
        var output = new ArrayBufferWriter<byte>();
        translator.Translate("message_start", Encoding.UTF8.GetBytes(StartEvent), output);

        Assert.False(translator.Translate(null, Encoding.UTF8.GetBytes(data), output));

        Assert.True(translator.Finished);
        // Nothing after it is translated, and no usage chunk pretends the answer ended.
        var after = output.WrittenCount;
        Assert.True(translator.Translate(null, """{"type":"message_stop"}"""u8, output));
        translator.End(output);
        Assert.Equal(after, output.WrittenCount);
    }

    [Fact]
    public void Translate_EventWithInvalidUtf8InAString_False()
    {
        var translator = new AnthropicStreamTranslator(null, 1);
        var output = new ArrayBufferWriter<byte>();
        byte[] data = [.. "{\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\""u8, 0xED, 0xA0, 0x80, .. "\"}}"u8];

        Assert.False(translator.Translate(null, data, output));
    }

    [Fact]
    public void Translate_ToolInputDeltaWithUndecodableString_False()
    {
        var translator = new AnthropicStreamTranslator(null, 1);
        var output = new ArrayBufferWriter<byte>();
        translator.Translate(null, Encoding.UTF8.GetBytes(StartEvent), output);
        translator.Translate(null, """{"type":"content_block_start","index":1,"content_block":{"type":"tool_use","id":"t","name":"f"}}"""u8, output);

        Assert.False(translator.Translate(null, """{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{\"a\":\"\ud800"}}"""u8, output));
    }

    [Fact]
    public void Translate_ErrorEventWithUndecodableMessage_GenericErrorEvent()
    {
        var translator = new AnthropicStreamTranslator(null, 1);
        var output = new ArrayBufferWriter<byte>();

        Assert.True(translator.Translate("error", """{"type":"error","error":{"type":"overloaded_error","message":"\ud800"}}"""u8, output));

        Assert.Equal(GenericStreamError, Describe(output.WrittenSpan));
        Assert.True(translator.Finished);
    }

    [Fact]
    public void TranslateAnswer_WrongTypes_EmptyDefaults()
    {
        var result = AnthropicResponse.Translate("""{"type":"message","content":[{"type":"text","text":5}],"usage":{"input_tokens":"x"},"stop_reason":3,"id":1,"model":{}}"""u8, null, 7);

        Assert.NotNull(result);
        var root = JsonDocument.Parse(result.Value.OpenAIBody).RootElement;
        Assert.Equal("", root.GetProperty("id").GetString());
        Assert.Equal("", root.GetProperty("model").GetString());
        Assert.Equal(7, root.GetProperty("created").GetInt64());
        var choice = root.GetProperty("choices")[0];
        Assert.Equal("", choice.GetProperty("message").GetProperty("content").GetString());
        Assert.Equal("stop", choice.GetProperty("finish_reason").GetString());
        Assert.Equal(0, root.GetProperty("usage").GetProperty("prompt_tokens").GetInt64());
        Assert.Equal(new LlmProxy.Usage.TokenUsage(0, 0, 0, 0, false), result.Value.Usage);
    }

    [Theory]
    [InlineData("""{"type":"error","error":{"type":"overloaded_error","message":"x"}}""")]
    [InlineData("""{"type":5,"content":[]}""")]
    [InlineData("""[{"type":"message"}]""")]
    [InlineData("""{"type":"message","content":[{"type":"text","text":"\ud800"}]}""")]
    [InlineData("""{"type":"message","id":"\udc00","content":[]}""")]
    [InlineData("""{"type":"message","model":"\ud800x","content":[]}""")]
    [InlineData("""{"type":"message","content":[],"stop_reason":"\ud800"}""")]
    [InlineData("""{"type":"message","content":[{"type":"\ud800"}]}""")]
    [InlineData("""{"type":"message","content":[{"type":"tool_use","id":"t","name":"f","input":{"a":"\ud800"}}]}""")]
    [InlineData("""{"type":"message","content":[{"type":"tool_use","id":"\ud800","name":"f","input":{}}]}""")]
    public void TranslateAnswer_NotAMessageOrUndecodable_Null(string body)
        => Assert.Null(AnthropicResponse.Translate(Encoding.UTF8.GetBytes(body), null, 1));

    [Theory]
    [InlineData(500, """{"type":"error","error":{"type":5,"message":{}}}""", "server_error", true)]
    [InlineData(400, """{"type":"error","error":{"type":5,"message":{}}}""", "invalid_request_error", false)]
    [InlineData(500, """{"type":"message","content":[{"type":"text","text":5}]}""", "server_error", true)]
    [InlineData(529, """{"type":"error","error":{"type":"\ud800","message":"x"}}""", "server_error", true)]
    [InlineData(429, """{"type":"error","error":{"type":"rate_limit_error","message":"\ud800"}}""", "invalid_request_error", true)]
    [InlineData(400, """{"type":"\udc00","error":{"type":"invalid_request_error","message":"x"}}""", "invalid_request_error", false)]
    public void TranslateError_WrongTypesOrUndecodable_GenericUpstreamError(int status, string body, string type, bool retry)
    {
        var error = AnthropicErrors.Translate(status, Encoding.UTF8.GetBytes(body));

        Assert.Equal(status == 529 ? 503 : status, error.Status);
        Assert.Equal(retry, error.ShouldRetry);
        var json = JsonDocument.Parse(error.OpenAIBody).RootElement.GetProperty("error");
        Assert.Equal($"The provider answered HTTP {status} with a body that is not an Anthropic error.", json.GetProperty("message").GetString());
        Assert.Equal(type, json.GetProperty("type").GetString());
        Assert.Equal("upstream_error", json.GetProperty("code").GetString());
    }

    // Each frame as "delta=<raw delta>;finish=<reason>" or "error=<raw error JSON>", joined by " | ".
    private static string Describe(ReadOnlySpan<byte> frames)
    {
        var parts = new List<string>();
        foreach (var frame in Encoding.UTF8.GetString(frames).Split("\n\n", StringSplitOptions.RemoveEmptyEntries))
        {
            Assert.StartsWith("data: ", frame, StringComparison.Ordinal);
            var root = JsonDocument.Parse(frame[6..]).RootElement;
            if (root.TryGetProperty("error", out var error))
            {
                parts.Add("error=" + frame[6..][("{\"error\":".Length)..^1]);
                continue;
            }

            Assert.Equal("m", root.GetProperty("id").GetString());
            var choice = root.GetProperty("choices")[0];
            var finish = choice.GetProperty("finish_reason");
            parts.Add("delta=" + choice.GetProperty("delta").GetRawText() + ";finish=" + (finish.ValueKind == JsonValueKind.Null ? "null" : finish.GetString()));
        }

        return string.Join(" | ", parts);
    }
}
