using System.Text;
using System.Text.Json;
using LlmProxy.Providers.Anthropic;
using LlmProxy.Usage;

namespace LlmProxy.Tests.Providers.Anthropic;

public sealed class AnthropicResponseTests
{
    private const string Usage = "{\"input_tokens\":25,\"output_tokens\":12,\"cache_creation_input_tokens\":5,\"cache_read_input_tokens\":100}";

    private static string Message(string content, string? stopReason = "end_turn", string usage = Usage)
        => "{\"id\":\"msg_01\",\"type\":\"message\",\"role\":\"assistant\",\"model\":\"claude-sonnet-4-5\",\"content\":" + content
            + ",\"stop_reason\":" + (stopReason is null ? "null" : $"\"{stopReason}\"") + ",\"stop_sequence\":null,\"usage\":" + usage + "}";

    private static (JsonElement Root, TokenUsage Usage) Translate(string body, string? jsonToolName = null)
    {
        var result = AnthropicResponse.Translate(Encoding.UTF8.GetBytes(body), jsonToolName, 1700000000);
        Assert.NotNull(result);
        return (JsonDocument.Parse(result.Value.OpenAIBody).RootElement.Clone(), result.Value.Usage);
    }

    [Fact]
    public void Translate_TextMessage_ChatCompletion()
    {
        var (root, _) = Translate(Message("[{\"type\":\"text\",\"text\":\"Hello, \"},{\"type\":\"thinking\",\"thinking\":\"hm\",\"signature\":\"s\"},{\"type\":\"text\",\"text\":\"wörld\"}]"));

        Assert.Equal("msg_01", root.GetProperty("id").GetString());
        Assert.Equal("chat.completion", root.GetProperty("object").GetString());
        Assert.Equal(1700000000, root.GetProperty("created").GetInt64());
        Assert.Equal("claude-sonnet-4-5", root.GetProperty("model").GetString());
        var choice = Assert.Single(root.GetProperty("choices").EnumerateArray());
        Assert.Equal(0, choice.GetProperty("index").GetInt32());
        Assert.Equal(JsonValueKind.Null, choice.GetProperty("logprobs").ValueKind);
        Assert.Equal("stop", choice.GetProperty("finish_reason").GetString());
        var message = choice.GetProperty("message");
        Assert.Equal("assistant", message.GetProperty("role").GetString());
        Assert.Equal("Hello, wörld", message.GetProperty("content").GetString());
        Assert.Equal(JsonValueKind.Null, message.GetProperty("refusal").ValueKind);
        Assert.False(message.TryGetProperty("tool_calls", out _));
    }

    [Fact]
    public void Translate_CacheTokens_InPromptAndDetails()
    {
        var (root, usage) = Translate(Message("[{\"type\":\"text\",\"text\":\"x\"}]"));

        var openAIUsage = root.GetProperty("usage");
        Assert.Equal(130, openAIUsage.GetProperty("prompt_tokens").GetInt64());
        Assert.Equal(12, openAIUsage.GetProperty("completion_tokens").GetInt64());
        Assert.Equal(142, openAIUsage.GetProperty("total_tokens").GetInt64());
        Assert.Equal(100, openAIUsage.GetProperty("prompt_tokens_details").GetProperty("cached_tokens").GetInt64());
        Assert.Equal(5, openAIUsage.GetProperty("prompt_tokens_details").GetProperty("cache_creation_tokens").GetInt64());
        Assert.Equal(0, openAIUsage.GetProperty("completion_tokens_details").GetProperty("reasoning_tokens").GetInt64());
        Assert.Equal(new TokenUsage(130, 12, 100, 0, false), usage);
    }

    [Fact]
    public void Translate_NoCacheFields_ZeroCached()
    {
        var (_, usage) = Translate(Message("[]", usage: "{\"input_tokens\":7,\"output_tokens\":3}"));

        Assert.Equal(new TokenUsage(7, 3, 0, 0, false), usage);
    }

    [Fact]
    public void Translate_ToolUse_ToolCallsInOrderAndNullContent()
    {
        var (root, _) = Translate(Message("[{\"type\":\"tool_use\",\"id\":\"toolu_1\",\"name\":\"get_weather\",\"input\":{\"city\":\"Paris\",\"days\": 2}},"
            + "{\"type\":\"tool_use\",\"id\":\"toolu_2\",\"name\":\"now\",\"input\":{}}]", "tool_use"));

        var choice = root.GetProperty("choices")[0];
        Assert.Equal("tool_calls", choice.GetProperty("finish_reason").GetString());
        var message = choice.GetProperty("message");
        Assert.Equal(JsonValueKind.Null, message.GetProperty("content").ValueKind);
        var calls = message.GetProperty("tool_calls");
        Assert.Equal(2, calls.GetArrayLength());
        Assert.Equal("toolu_1", calls[0].GetProperty("id").GetString());
        Assert.Equal("function", calls[0].GetProperty("type").GetString());
        Assert.Equal("get_weather", calls[0].GetProperty("function").GetProperty("name").GetString());
        Assert.Equal("{\"city\":\"Paris\",\"days\":2}", calls[0].GetProperty("function").GetProperty("arguments").GetString());
        Assert.Equal("toolu_2", calls[1].GetProperty("id").GetString());
        Assert.Equal("{}", calls[1].GetProperty("function").GetProperty("arguments").GetString());
    }

    [Fact]
    public void Translate_TextAndToolUse_BothKept()
    {
        var (root, _) = Translate(Message("[{\"type\":\"text\",\"text\":\"Checking.\"},{\"type\":\"tool_use\",\"id\":\"t\",\"name\":\"f\",\"input\":{}}]", "tool_use"));

        var message = root.GetProperty("choices")[0].GetProperty("message");
        Assert.Equal("Checking.", message.GetProperty("content").GetString());
        Assert.Single(message.GetProperty("tool_calls").EnumerateArray());
    }

    [Fact]
    public void Translate_NoContent_EmptyString()
    {
        var (root, _) = Translate(Message("[]", "max_tokens"));

        Assert.Equal(string.Empty, root.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString());
    }

    [Theory]
    [InlineData("tool_use", "stop")]
    [InlineData("max_tokens", "length")]
    [InlineData("end_turn", "stop")]
    public void Translate_ForcedJsonTool_InputBecomesContent(string stopReason, string finishReason)
    {
        var (root, _) = Translate(Message("[{\"type\":\"tool_use\",\"id\":\"t\",\"name\":\"json_response\",\"input\":{\"answer\": \"日本\" }}]", stopReason), "json_response");

        var choice = root.GetProperty("choices")[0];
        Assert.Equal(finishReason, choice.GetProperty("finish_reason").GetString());
        Assert.Equal("{\"answer\":\"日本\"}", choice.GetProperty("message").GetProperty("content").GetString());
        Assert.False(choice.GetProperty("message").TryGetProperty("tool_calls", out _));
    }

    [Fact]
    public void Translate_JsonToolNameButOtherTool_StaysToolCall()
    {
        var (root, _) = Translate(Message("[{\"type\":\"tool_use\",\"id\":\"t\",\"name\":\"other\",\"input\":{}}]", "tool_use"), "json_response");

        Assert.Equal("tool_calls", root.GetProperty("choices")[0].GetProperty("finish_reason").GetString());
    }

    [Theory]
    [InlineData("end_turn", "stop")]
    [InlineData("stop_sequence", "stop")]
    [InlineData("pause_turn", "stop")]
    [InlineData("max_tokens", "length")]
    [InlineData("model_context_window_exceeded", "length")]
    [InlineData("tool_use", "tool_calls")]
    [InlineData("refusal", "content_filter")]
    [InlineData("something_new", "stop")]
    [InlineData(null, "stop")]
    public void FinishReasonOf_StopReason_Mapped(string? stopReason, string expected)
    {
        Assert.Equal(expected, AnthropicResponse.FinishReasonOf(stopReason));
    }

    [Theory]
    [InlineData("{\"type\":\"error\",\"error\":{\"type\":\"api_error\",\"message\":\"x\"}}")]
    [InlineData("{\"id\":\"chatcmpl-1\",\"object\":\"chat.completion\",\"choices\":[]}")]
    [InlineData("{\"type\":\"message\"")]
    [InlineData("[]")]
    [InlineData("")]
    public void Translate_NotAMessage_Null(string body)
    {
        Assert.Null(AnthropicResponse.Translate(Encoding.UTF8.GetBytes(body), null, 0));
    }
}
