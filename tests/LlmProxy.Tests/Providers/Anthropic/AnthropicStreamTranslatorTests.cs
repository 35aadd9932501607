using System.Buffers;
using System.Text;
using System.Text.Json;
using LlmProxy.Providers.Anthropic;
using LlmProxy.Usage;

namespace LlmProxy.Tests.Providers.Anthropic;

public sealed class AnthropicStreamTranslatorTests
{
    internal const string Start = "{\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\",\"type\":\"message\",\"role\":\"assistant\",\"content\":[],\"model\":\"claude-x\","
        + "\"stop_reason\":null,\"stop_sequence\":null,\"usage\":{\"input_tokens\":25,\"cache_creation_input_tokens\":4,\"cache_read_input_tokens\":10,\"output_tokens\":1}}}";

    internal const string TextStart = "{\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}";

    internal const string Stop = "{\"type\":\"message_stop\"}";

    internal static string TextDelta(int index, string text) => "{\"type\":\"content_block_delta\",\"index\":" + index + ",\"delta\":{\"type\":\"text_delta\",\"text\":\"" + text + "\"}}";

    internal static string MessageDelta(string stopReason, int outputTokens)
        => "{\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"" + stopReason + "\",\"stop_sequence\":null},\"usage\":{\"output_tokens\":" + outputTokens + "}}";

    private static string ToolStart(int index, string id, string name)
        => "{\"type\":\"content_block_start\",\"index\":" + index + ",\"content_block\":{\"type\":\"tool_use\",\"id\":\"" + id + "\",\"name\":\"" + name + "\",\"input\":{}}}";

    private static string JsonDelta(int index, string partial)
        => "{\"type\":\"content_block_delta\",\"index\":" + index + ",\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":" + JsonSerializer.Serialize(partial) + "}}";

    private static string BlockStop(int index) => "{\"type\":\"content_block_stop\",\"index\":" + index + "}";

    /// <summary>Translates the events (the SSE event name is taken from the data's type unless given) and returns the frames.</summary>
    private static List<string> Run(AnthropicStreamTranslator translator, params string[] events)
    {
        var output = new ArrayBufferWriter<byte>();
        foreach (var data in events)
        {
            translator.Translate(null, Encoding.UTF8.GetBytes(data), output);
        }

        var text = Encoding.UTF8.GetString(output.WrittenSpan);
        Assert.True(text.Length == 0 || text.EndsWith("\n\n", StringComparison.Ordinal));
        return [.. text.Split("\n\n", StringSplitOptions.RemoveEmptyEntries)];
    }

    private static JsonElement Json(string frame)
    {
        Assert.StartsWith("data: ", frame, StringComparison.Ordinal);
        return JsonDocument.Parse(frame[6..]).RootElement.Clone();
    }

    private static JsonElement Delta(string frame) => Json(frame).GetProperty("choices")[0].GetProperty("delta");

    private static string? FinishOf(string frame) => Json(frame).GetProperty("choices")[0].GetProperty("finish_reason").GetString();

    [Fact]
    public void Translate_TextStream_ChunksUsageAndDone()
    {
        var translator = new AnthropicStreamTranslator(null, 1700000000);

        var frames = Run(translator, Start, "{\"type\":\"ping\"}", TextStart, TextDelta(0, "Hel"), TextDelta(0, "lo"), BlockStop(0), MessageDelta("end_turn", 15), Stop);

        Assert.Equal(6, frames.Count);
        var first = Json(frames[0]);
        Assert.Equal("msg_1", first.GetProperty("id").GetString());
        Assert.Equal("chat.completion.chunk", first.GetProperty("object").GetString());
        Assert.Equal(1700000000, first.GetProperty("created").GetInt64());
        Assert.Equal("claude-x", first.GetProperty("model").GetString());
        Assert.Equal("assistant", Delta(frames[0]).GetProperty("role").GetString());
        Assert.Equal(string.Empty, Delta(frames[0]).GetProperty("content").GetString());
        Assert.Null(FinishOf(frames[0]));
        Assert.Equal(JsonValueKind.Null, first.GetProperty("choices")[0].GetProperty("logprobs").ValueKind);
        Assert.Equal("Hel", Delta(frames[1]).GetProperty("content").GetString());
        Assert.Equal("lo", Delta(frames[2]).GetProperty("content").GetString());
        Assert.Empty(Delta(frames[3]).EnumerateObject());
        Assert.Equal("stop", FinishOf(frames[3]));
        var usage = Json(frames[4]);
        Assert.Empty(usage.GetProperty("choices").EnumerateArray());
        Assert.Equal(39, usage.GetProperty("usage").GetProperty("prompt_tokens").GetInt64());
        Assert.Equal(15, usage.GetProperty("usage").GetProperty("completion_tokens").GetInt64());
        Assert.Equal(54, usage.GetProperty("usage").GetProperty("total_tokens").GetInt64());
        Assert.Equal(10, usage.GetProperty("usage").GetProperty("prompt_tokens_details").GetProperty("cached_tokens").GetInt64());
        Assert.Equal(4, usage.GetProperty("usage").GetProperty("prompt_tokens_details").GetProperty("cache_creation_tokens").GetInt64());
        Assert.Equal("data: [DONE]", frames[5]);
        Assert.True(translator.Finished);
        Assert.Equal(new TokenUsage(39, 15, 10, 0, false), translator.Usage);
    }

    [Fact]
    public void Translate_ToolUseAfterText_RenumberedFromZeroAndArgumentsAccumulate()
    {
        var translator = new AnthropicStreamTranslator(null, 1);

        var frames = Run(translator, Start, TextStart, TextDelta(0, "Checking"), BlockStop(0),
            ToolStart(1, "toolu_a", "get_weather"), JsonDelta(1, ""), JsonDelta(1, "{\"city\": "), JsonDelta(1, "\"Paris\"}"), BlockStop(1),
            ToolStart(2, "toolu_b", "now"), JsonDelta(2, "{}"), BlockStop(2), MessageDelta("tool_use", 40));

        var calls = frames.Skip(1).Select(Delta).Where(d => d.TryGetProperty("tool_calls", out _)).Select(d => d.GetProperty("tool_calls")[0]).ToList();
        Assert.Equal(5, calls.Count);
        Assert.Equal(0, calls[0].GetProperty("index").GetInt32());
        Assert.Equal("toolu_a", calls[0].GetProperty("id").GetString());
        Assert.Equal("function", calls[0].GetProperty("type").GetString());
        Assert.Equal("get_weather", calls[0].GetProperty("function").GetProperty("name").GetString());
        Assert.Equal(string.Empty, calls[0].GetProperty("function").GetProperty("arguments").GetString());
        var arguments = string.Concat(calls.Where(c => c.GetProperty("index").GetInt32() == 0).Select(c => c.GetProperty("function").GetProperty("arguments").GetString()));
        Assert.Equal("Paris", JsonDocument.Parse(arguments).RootElement.GetProperty("city").GetString());
        Assert.Equal(1, calls[3].GetProperty("index").GetInt32());
        Assert.Equal("toolu_b", calls[3].GetProperty("id").GetString());
        Assert.Equal("{}", calls[4].GetProperty("function").GetProperty("arguments").GetString());
        Assert.False(calls[4].TryGetProperty("id", out _));
        Assert.Equal("tool_calls", FinishOf(frames[^1]));
    }

    [Theory]
    [InlineData("end_turn", "stop")]
    [InlineData("stop_sequence", "stop")]
    [InlineData("pause_turn", "stop")]
    [InlineData("max_tokens", "length")]
    [InlineData("model_context_window_exceeded", "length")]
    [InlineData("tool_use", "stop")]
    [InlineData("refusal", "content_filter")]
    public void Translate_MessageDelta_FinishReasonMapped(string stopReason, string expected)
    {
        var frames = Run(new AnthropicStreamTranslator(null, 1), Start, MessageDelta(stopReason, 2));

        // No tool call was streamed, so even tool_use is a plain stop.
        Assert.Equal(expected, FinishOf(frames[^1]));
    }

    [Fact]
    public void Translate_OutputTokens_CumulativeLatestWins()
    {
        var translator = new AnthropicStreamTranslator(null, 1);

        Run(translator, Start, MessageDelta("end_turn", 10), MessageDelta("end_turn", 30));

        Assert.Equal(30, translator.Usage.Output);
        Assert.Equal(39, translator.Usage.Input);
        Assert.Equal(10, translator.Usage.CachedInput);
    }

    [Theory]
    [InlineData("tool_use", "stop")]
    [InlineData("max_tokens", "length")]
    public void Translate_ForcedJsonTool_StreamsAsContent(string stopReason, string finish)
    {
        var frames = Run(new AnthropicStreamTranslator("json_response", 1), Start, ToolStart(0, "toolu_j", "json_response"),
            JsonDelta(0, "{\"answer\":"), JsonDelta(0, "\"42\"}"), BlockStop(0), MessageDelta(stopReason, 9), Stop);

        var deltas = frames.Take(frames.Count - 2).Select(Delta).ToList();
        Assert.DoesNotContain(deltas, d => d.TryGetProperty("tool_calls", out _));
        var content = string.Concat(deltas.Skip(1).Where(d => d.TryGetProperty("content", out _)).Select(d => d.GetProperty("content").GetString()));
        Assert.Equal("{\"answer\":\"42\"}", content);
        Assert.Equal(finish, FinishOf(frames[^3]));
    }

    [Fact]
    public void Translate_ThinkingBlock_NothingAndToolIndexStillZero()
    {
        var frames = Run(new AnthropicStreamTranslator(null, 1), Start,
            "{\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"thinking\",\"thinking\":\"\"}}",
            "{\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"thinking_delta\",\"thinking\":\"hmm\"}}",
            "{\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"signature_delta\",\"signature\":\"sig\"}}",
            BlockStop(0), ToolStart(1, "t", "f"));

        Assert.Equal(2, frames.Count);
        Assert.Equal(0, Delta(frames[1]).GetProperty("tool_calls")[0].GetProperty("index").GetInt32());
    }

    [Fact]
    public void Translate_ErrorEvent_OpenAIErrorAndFinished()
    {
        var translator = new AnthropicStreamTranslator(null, 1);

        var frames = Run(translator, Start, TextDelta(0, "a"), "{\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"Overloaded\"}}", TextDelta(0, "late"), Stop);

        Assert.Equal(3, frames.Count);
        var error = Json(frames[2]).GetProperty("error");
        Assert.Equal("Overloaded", error.GetProperty("message").GetString());
        Assert.Equal("server_error", error.GetProperty("type").GetString());
        Assert.Equal("overloaded", error.GetProperty("code").GetString());
        Assert.Equal(JsonValueKind.Null, error.GetProperty("param").ValueKind);
        Assert.True(translator.Finished);
    }

    [Fact]
    public void Translate_AfterMessageStop_Ignored()
    {
        var translator = new AnthropicStreamTranslator(null, 1);

        var frames = Run(translator, Start, Stop, TextDelta(0, "more"), Stop);

        Assert.Equal(3, frames.Count);
    }

    [Theory]
    [InlineData("not json")]
    [InlineData("{\"type\":\"content_block_delta\"")]
    [InlineData("{\"type\":\"brand_new_event\",\"x\":1}")]
    [InlineData("[1]")]
    [InlineData("{\"type\":\"content_block_delta\",\"index\":\"zero\",\"delta\":{\"type\":\"text_delta\",\"text\":\"x\"}}")]
    [InlineData("{\"type\":\"content_block_delta\",\"index\":5,\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":\"{}\"}}")]
    public void Translate_MalformedOrUnknown_Ignored(string data)
    {
        var translator = new AnthropicStreamTranslator(null, 1);

        var frames = Run(translator, data);

        Assert.Empty(frames);
        Assert.False(translator.Finished);
    }

    [Fact]
    public void Translate_NoTypeInData_SseEventNameUsed()
    {
        var output = new ArrayBufferWriter<byte>();
        var translator = new AnthropicStreamTranslator(null, 1);

        translator.Translate("message_stop", "{}"u8, output);

        Assert.True(translator.Finished);
        Assert.EndsWith("data: [DONE]\n\n", Encoding.UTF8.GetString(output.WrittenSpan), StringComparison.Ordinal);
    }
}
