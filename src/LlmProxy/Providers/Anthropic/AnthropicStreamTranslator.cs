using System.Buffers;
using System.Text.Json;
using LlmProxy.Streaming;
using LlmProxy.Usage;

namespace LlmProxy.Providers.Anthropic;

/// <summary>
/// Translates the events of one Anthropic message stream into OpenAI <c>chat.completion.chunk</c> SSE frames.
/// Tool calls are numbered 0, 1, 2… in the order their tool_use blocks start (Anthropic's block index also counts
/// text and thinking blocks); the forced json tool's input streams as <c>content</c>. One instance per stream;
/// not thread-safe. Data that is not JSON, values of unexpected types and unknown events are ignored, as is everything
/// after <see cref="Finished"/>; an event with a string that cannot be decoded (a lone surrogate escape such as
/// <c>"\ud800"</c>) makes the stream unreadable (<see cref="Translate(string?, ReadOnlySpan{byte}, IBufferWriter{byte})"/>
/// returns false).
/// </summary>
internal sealed class AnthropicStreamTranslator
{

    private readonly string? _jsonToolName;
    private readonly long _created;
    private readonly Dictionary<int, int> _toolOfBlock = [];
    private readonly HashSet<int> _jsonBlocks = [];
    private AnthropicUsage _usage;
    private string _id = string.Empty;
    private string _model = string.Empty;
    private readonly bool _usageChunk;
    private int _toolCalls;
    private Utf8JsonWriter? _writer;

    /// <summary>
    /// Creates the translator; <paramref name="jsonToolName"/> is the forced json tool of the request, if any;
    /// <paramref name="usageChunk"/> false leaves out the usage chunk (nobody asked for it and nothing meters it).
    /// </summary>
    public AnthropicStreamTranslator(string? jsonToolName, long created, bool usageChunk = true)
    {
        _jsonToolName = jsonToolName;
        _created = created;
        _usageChunk = usageChunk;
    }

    /// <summary>True after <c>message_stop</c>, an <c>error</c> event or an unreadable event.</summary>
    public bool Finished { get; private set; }

    /// <summary>The usage seen so far (output tokens are cumulative in Anthropic streams: the latest count wins).</summary>
    public TokenUsage Usage => _usage.ToTokenUsage();

    /// <summary>True once <c>message_start</c> reported the input tokens (then <see cref="Usage"/>'s input and cached input are exact).</summary>
    public bool InputKnown { get; private set; }

    /// <summary>
    /// True once a <c>message_delta</c> reported the output tokens (then <see cref="Usage"/>'s output is exact; the count
    /// in <c>message_start</c> is only the start of the answer's).
    /// </summary>
    public bool OutputKnown { get; private set; }

    /// <summary>
    /// The provider closed the stream before <c>message_stop</c>. When a <c>message_delta</c> reported the output
    /// tokens, the usage seen so far still goes out as the usage chunk, so the cut answer is metered exactly; without
    /// one no output count is known and no chunk is written (the reader of the stream hands over the exact input and the
    /// output is estimated). No finish reason or <c>[DONE]</c> is invented (the SSE guard ends the stream with its
    /// truncation error).
    /// </summary>
    public void End(IBufferWriter<byte> output)
    {
        if (!Finished && _usageChunk && _id.Length > 0 && OutputKnown)
        {
            WriteUsageChunk(output);
        }

        Finished = true;
    }

    /// <summary>
    /// Translates one event. The <c>type</c> inside <paramref name="data"/> is authoritative; <paramref name="eventType"/>
    /// (the SSE <c>event:</c> name) is used only when the data has none. Writes zero or more complete frames and returns
    /// true; returns false (and is <see cref="Finished"/>) when the event holds a string that cannot be decoded: what it
    /// wrote for this event is then incomplete and must be discarded, and the answer cannot be read on.
    /// </summary>
    public bool Translate(string? eventType, ReadOnlySpan<byte> data, IBufferWriter<byte> output)
    {
        if (Finished)
        {
            return true;
        }

        try
        {
            var reader = new Utf8JsonReader(data);
            using var document = JsonDocument.ParseValue(ref reader);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                return true;
            }

            Translate(AnthropicResponse.StringOf(root, "type") ?? eventType, root, data, output);
            return true;
        }
        catch (JsonException)
        {
            // Not JSON: ignored.
            return true;
        }
        catch (Exception ex) when (AnthropicJson.IsUndecodable(ex))
        {
            Finished = true;
            return false;
        }
    }

    private void Translate(string? type, JsonElement root, ReadOnlySpan<byte> data, IBufferWriter<byte> output)
    {
        switch (type)
        {
            case "message_start":
                OnMessageStart(root, output);
                break;
            case "content_block_start":
                OnBlockStart(root, output);
                break;
            case "content_block_delta":
                OnBlockDelta(root, output);
                break;
            case "message_delta":
                OnMessageDelta(root, output);
                break;
            case "message_stop":
                if (_usageChunk)
                {
                    WriteUsageChunk(output);
                }

                output.Write(SseFrames.Done);
                Finished = true;
                break;
            case "error":
                output.Write(SseFrames.Error(AnthropicErrors.SseErrorData(data)));
                Finished = true;
                break;
        }
    }

    private void OnMessageStart(JsonElement root, IBufferWriter<byte> output)
    {
        if (root.TryGetProperty("message", out var message) && message.ValueKind == JsonValueKind.Object)
        {
            _id = AnthropicResponse.StringOf(message, "id") ?? _id;
            _model = AnthropicResponse.StringOf(message, "model") ?? _model;
            if (message.TryGetProperty("usage", out var usage))
            {
                _usage.Update(usage);
                InputKnown |= AnthropicUsage.HasCount(usage, "input_tokens");
            }
        }

        var writer = BeginChunk(output);
        writer.WriteString("role", "assistant");
        writer.WriteString("content", string.Empty);
        EndChunk(output, null);
    }

    private void OnBlockStart(JsonElement root, IBufferWriter<byte> output)
    {
        if (!TryGetIndex(root, out var index) || !root.TryGetProperty("content_block", out var block))
        {
            return;
        }

        switch (AnthropicResponse.StringOf(block, "type"))
        {
            case "text":
                WriteContent(AnthropicResponse.StringOf(block, "text"), output);
                break;
            case "tool_use" when _jsonToolName is not null && AnthropicResponse.StringOf(block, "name") == _jsonToolName:
                _jsonBlocks.Add(index);
                break;
            case "tool_use":
                var tool = _toolCalls++;
                _toolOfBlock[index] = tool;
                var writer = BeginChunk(output);
                writer.WriteStartArray("tool_calls");
                writer.WriteStartObject();
                writer.WriteNumber("index", tool);
                writer.WriteString("id", AnthropicResponse.StringOf(block, "id") ?? string.Empty);
                writer.WriteString("type", "function");
                writer.WriteStartObject("function");
                writer.WriteString("name", AnthropicResponse.StringOf(block, "name") ?? string.Empty);
                writer.WriteString("arguments", string.Empty);
                writer.WriteEndObject();
                writer.WriteEndObject();
                writer.WriteEndArray();
                EndChunk(output, null);
                break;
        }
    }

    private void OnBlockDelta(JsonElement root, IBufferWriter<byte> output)
    {
        if (!TryGetIndex(root, out var index) || !root.TryGetProperty("delta", out var delta))
        {
            return;
        }

        switch (AnthropicResponse.StringOf(delta, "type"))
        {
            case "text_delta":
                WriteContent(AnthropicResponse.StringOf(delta, "text"), output);
                break;
            case "input_json_delta" when _jsonBlocks.Contains(index):
                WriteContent(AnthropicResponse.StringOf(delta, "partial_json"), output);
                break;
            case "input_json_delta" when _toolOfBlock.TryGetValue(index, out var tool):
                if (AnthropicResponse.StringOf(delta, "partial_json") is not { Length: > 0 } json)
                {
                    return;
                }

                var writer = BeginChunk(output);
                writer.WriteStartArray("tool_calls");
                writer.WriteStartObject();
                writer.WriteNumber("index", tool);
                writer.WriteStartObject("function");
                writer.WriteString("arguments", json);
                writer.WriteEndObject();
                writer.WriteEndObject();
                writer.WriteEndArray();
                EndChunk(output, null);
                break;
        }
    }

    private void OnMessageDelta(JsonElement root, IBufferWriter<byte> output)
    {
        if (root.TryGetProperty("usage", out var usage))
        {
            _usage.Update(usage);
            OutputKnown |= AnthropicUsage.HasCount(usage, "output_tokens");
        }

        string? stopReason = null;
        if (root.TryGetProperty("delta", out var delta))
        {
            stopReason = AnthropicResponse.StringOf(delta, "stop_reason");
        }

        BeginChunk(output);
        EndChunk(output, AnthropicResponse.FinishReasonOf(stopReason, _toolCalls));
    }

    private void WriteContent(string? text, IBufferWriter<byte> output)
    {
        if (string.IsNullOrEmpty(text))
        {
            return;
        }

        var writer = BeginChunk(output);
        writer.WriteString("content", text);
        EndChunk(output, null);
    }

    private void WriteUsageChunk(IBufferWriter<byte> output)
    {
        var writer = BeginFrame(output);
        writer.WriteStartArray("choices");
        writer.WriteEndArray();
        _usage.Write(writer);
        EndFrame(output);
    }

    /// <summary>Starts a chunk frame and leaves the writer inside <c>choices[0].delta</c>.</summary>
    private Utf8JsonWriter BeginChunk(IBufferWriter<byte> output)
    {
        var writer = BeginFrame(output);
        writer.WriteStartArray("choices");
        writer.WriteStartObject();
        writer.WriteNumber("index", 0);
        writer.WriteStartObject("delta");
        return writer;
    }

    private void EndChunk(IBufferWriter<byte> output, string? finishReason)
    {
        var writer = _writer!;
        writer.WriteEndObject();
        writer.WriteNull("logprobs");
        if (finishReason is null)
        {
            writer.WriteNull("finish_reason");
        }
        else
        {
            writer.WriteString("finish_reason", finishReason);
        }

        writer.WriteEndObject();
        writer.WriteEndArray();
        EndFrame(output);
    }

    private Utf8JsonWriter BeginFrame(IBufferWriter<byte> output)
    {
        output.Write(SseFrames.DataPrefix);
        if (_writer is null)
        {
            _writer = new Utf8JsonWriter(output, AnthropicJson.WriterOptions);
        }
        else
        {
            _writer.Reset(output);
        }

        _writer.WriteStartObject();
        _writer.WriteString("id", _id);
        _writer.WriteString("object", "chat.completion.chunk");
        _writer.WriteNumber("created", _created);
        _writer.WriteString("model", _model);
        return _writer;
    }

    private void EndFrame(IBufferWriter<byte> output)
    {
        _writer!.WriteEndObject();
        _writer.Flush();
        output.Write(SseFrames.BlankLine);
    }

    private static bool TryGetIndex(JsonElement root, out int index)
    {
        index = 0;
        return root.TryGetProperty("index", out var value) && value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out index);
    }
}
