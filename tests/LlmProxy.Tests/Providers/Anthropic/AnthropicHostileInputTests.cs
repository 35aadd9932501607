using System.Buffers;
using System.Text;
using LlmProxy.Providers.Anthropic;

namespace LlmProxy.Tests.Providers.Anthropic;

/// <summary>Valid JSON with unexpected types, from a client or from a provider: an error result or a skipped event, never an exception.</summary>
public sealed class AnthropicHostileInputTests
{
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

    [Theory]
    [InlineData("message_start", """{"type":"message_start","message":{"id":5,"model":[],"usage":{"input_tokens":"x"}}}""")]
    [InlineData("content_block_start", """{"type":"content_block_start","index":"0","content_block":{"type":"tool_use","id":1,"name":2}}""")]
    [InlineData("content_block_start", """{"type":"content_block_start","index":0,"content_block":"x"}""")]
    [InlineData("content_block_delta", """{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":5}}""")]
    [InlineData("content_block_delta", """{"type":"content_block_delta","index":0,"delta":{"type":"input_json_delta","partial_json":{}}}""")]
    [InlineData("content_block_delta", """{"type":"content_block_delta","index":1.5,"delta":"x"}""")]
    [InlineData("message_delta", """{"type":"message_delta","delta":"x","usage":{"output_tokens":"many"}}""")]
    [InlineData("message_delta", """{"type":"message_delta","delta":{"stop_reason":5},"usage":[]}""")]
    [InlineData("error", """{"type":"error","error":{"type":5,"message":{}}}""")]
    [InlineData("error", """{"type":"error","error":"boom"}""")]
    public void Translate_EventWithWrongTypes_NeverThrows(string type, string data)
    {
        var translator = new AnthropicStreamTranslator(null, 1);
        var output = new ArrayBufferWriter<byte>();
        translator.Translate("message_start", """{"type":"message_start","message":{"id":"m","model":"c","usage":{"input_tokens":1}}}"""u8, output);

        translator.Translate(type, Encoding.UTF8.GetBytes(data), output);

        Assert.True(output.WrittenCount > 0);
    }

    [Theory]
    [InlineData("""{"type":"error","error":{"type":5,"message":{}}}""")]
    [InlineData("""{"type":"message","content":[{"type":"text","text":5}],"usage":{"input_tokens":"x"},"stop_reason":3,"id":1,"model":{}}""")]
    public void TranslateAnswerAndError_WrongTypes_NeverThrow(string body)
    {
        _ = AnthropicResponse.Translate(Encoding.UTF8.GetBytes(body), null, 1);
        var error = AnthropicErrors.Translate(500, Encoding.UTF8.GetBytes(body));

        Assert.Equal(500, error.Status);
    }
}
