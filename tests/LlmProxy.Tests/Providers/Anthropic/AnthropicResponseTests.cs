using System.Text;
using System.Text.Json;
using LlmProxy.Providers.Anthropic;

namespace LlmProxy.Tests.Providers.Anthropic;

public sealed class AnthropicResponseTests
{
    [Fact]
    public void Translate_TextAndToolUse_ContentToolCallsAndUsage()
    {
        var result = AnthropicResponse.Translate(Encoding.UTF8.GetBytes("""
            {"id":"msg_1","type":"message","role":"assistant","model":"claude-x","content":[{"type":"thinking","thinking":"hmm","signature":"s"},{"type":"text","text":"Let me look."},
             {"type":"tool_use","id":"toolu_1","name":"get","input":{"q":"a"}}],"stop_reason":"tool_use",
             "usage":{"input_tokens":100,"cache_read_input_tokens":40,"cache_creation_input_tokens":10,"output_tokens":7}}
            """), null, 1700000000)!.Value;
        var body = JsonDocument.Parse(result.OpenAIBody).RootElement;
        var choice = body.GetProperty("choices")[0];

        Assert.Equal("chat.completion", body.GetProperty("object").GetString());
        Assert.Equal(1700000000, body.GetProperty("created").GetInt64());
        Assert.Equal("Let me look.", choice.GetProperty("message").GetProperty("content").GetString());
        Assert.Equal("tool_calls", choice.GetProperty("finish_reason").GetString());
        var call = choice.GetProperty("message").GetProperty("tool_calls")[0];
        Assert.Equal("toolu_1", call.GetProperty("id").GetString());
        Assert.Equal("a", JsonDocument.Parse(call.GetProperty("function").GetProperty("arguments").GetString()!).RootElement.GetProperty("q").GetString());
        var usage = body.GetProperty("usage");
        Assert.Equal(150, usage.GetProperty("prompt_tokens").GetInt32());
        Assert.Equal(40, usage.GetProperty("prompt_tokens_details").GetProperty("cached_tokens").GetInt32());
        Assert.Equal(157, usage.GetProperty("total_tokens").GetInt32());
        Assert.Equal(new LlmProxy.Usage.TokenUsage(150, 7, 40, 0, Estimated: false), result.Usage);
    }

    [Fact]
    public void Translate_ForcedJsonTool_InputIsContentAndFinishStop()
    {
        var result = AnthropicResponse.Translate(Encoding.UTF8.GetBytes("""{"id":"m","type":"message","model":"c","content":[{"type":"tool_use","id":"t","name":"json_response","input":{"a":1}}],"stop_reason":"tool_use","usage":{"input_tokens":1,"output_tokens":1}}"""), "json_response", 0)!.Value;
        var choice = JsonDocument.Parse(result.OpenAIBody).RootElement.GetProperty("choices")[0];

        Assert.Equal("""{"a":1}""", choice.GetProperty("message").GetProperty("content").GetString());
        Assert.False(choice.GetProperty("message").TryGetProperty("tool_calls", out _));
        Assert.Equal("stop", choice.GetProperty("finish_reason").GetString());
    }

    [Theory]
    [InlineData("""{"type":"error","error":{"type":"api_error","message":"x"}}""")]
    [InlineData("not json")]
    [InlineData("[]")]
    public void Translate_NotAMessage_Null(string body)
    {
        Assert.Null(AnthropicResponse.Translate(Encoding.UTF8.GetBytes(body), null, 0));
    }
}
