using System.Buffers;
using System.Text.Json;
using LlmProxy.Usage;

namespace LlmProxy.Providers.Anthropic;

/// <summary>
/// One Anthropic event stream as OpenAI <c>chat.completion.chunk</c> events (one instance per stream, not thread-safe):
/// <c>message_start</c> → the role chunk; text deltas → content deltas; <c>tool_use</c> blocks and their
/// <c>input_json_delta</c>s → <c>tool_calls</c> deltas numbered 0, 1, … in the order the tool blocks come (Anthropic's
/// block index also counts text and thinking blocks); the <c>response_format</c> tool's input → content deltas;
/// <c>message_delta</c> → the finish-reason chunk; <c>message_stop</c> → the usage chunk (<c>choices: []</c>) and
/// <c>[DONE]</c>; an <c>error</c> event → OpenAI's <c>data: {"error":…}</c>. Thinking, pings and unknown events write nothing.
/// </summary>
internal sealed class AnthropicStreamTranslator
{
    private readonly string? _jsonToolName;
    private readonly long _created;
    private readonly AnthropicUsage _usage = new();
    private readonly Dictionary<int, int> _toolIndexByBlock = [];
    private int _jsonToolBlock = -1;
    private bool _jsonAnswered;
    private string? _id;
    private string? _model;

    /// <summary>Starts a stream; <paramref name="jsonToolName"/> is the tool that stands for <c>response_format</c>, if any.</summary>
    public AnthropicStreamTranslator(string? jsonToolName, long created)
    {
        _jsonToolName = jsonToolName;
        _created = created;
    }

    /// <summary>True after <c>message_stop</c> or an <c>error</c> event: nothing more is written.</summary>
    public bool Finished { get; private set; }

    /// <summary>The usage seen so far.</summary>
    public TokenUsage Usage => _usage.ToTokenUsage();

    /// <summary>Writes the OpenAI events for one Anthropic event (its <c>data</c>; the <c>type</c> inside it decides).</summary>
    public void Translate(ReadOnlySpan<byte> data, IBufferWriter<byte> output)
    {
        if (Finished)
        {
            return;
        }

        JsonDocument document;
        try
        {
            var reader = new Utf8JsonReader(data);
            document = JsonDocument.ParseValue(ref reader);
        }
        catch (JsonException)
        {
            return;
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind == JsonValueKind.Object && root.TryGetProperty("type", out var type) && type.ValueKind == JsonValueKind.String)
            {
                Translate(type.GetString()!, root, data, output);
            }
        }
    }

    private void Translate(string type, JsonElement root, ReadOnlySpan<byte> data, IBufferWriter<byte> output)
    {
        switch (type)
        {
            case "message_start" when root.TryGetProperty("message", out var message) && message.ValueKind == JsonValueKind.Object:
                _id = message.TryGetProperty("id", out var id) ? id.GetString() : null;
                _model = message.TryGetProperty("model", out var model) ? model.GetString() : null;
                if (message.TryGetProperty("usage", out var startUsage))
                {
                    _usage.Read(startUsage);
                }

                WriteChunk(output, static w =>
                {
                    w.WriteString("role", "assistant");
                    w.WriteString("content", "");
                });
                break;
            case "content_block_start":
                StartBlock(root, output);
                break;
            case "content_block_delta":
                Delta(root, output);
                break;
            case "message_delta":
                if (root.TryGetProperty("usage", out var deltaUsage))
                {
                    _usage.Read(deltaUsage);
                }

                var stopReason = root.TryGetProperty("delta", out var delta) && delta.TryGetProperty("stop_reason", out var stop) && stop.ValueKind == JsonValueKind.String
                    ? stop.GetString()
                    : null;
                if (stopReason is not null)
                {
                    WriteChunk(output, null, AnthropicResponse.FinishReasonOf(stopReason, _jsonAnswered));
                }

                break;
            case "message_stop":
                WriteUsageChunk(output);
                Write(output, "data: [DONE]\n\n"u8);
                Finished = true;
                break;
            case "error":
                var error = AnthropicErrors.FromEvent(data) ?? AnthropicErrors.Translate(500, []).OpenAIBody;
                Write(output, "data: "u8);
                Write(output, error);
                Write(output, "\n\n"u8);
                Finished = true;
                break;
        }
    }

    private void StartBlock(JsonElement root, IBufferWriter<byte> output)
    {
        if (!root.TryGetProperty("content_block", out var block) || !root.TryGetProperty("index", out var indexElement) || !indexElement.TryGetInt32(out var index)
            || !block.TryGetProperty("type", out var type))
        {
            return;
        }

        if (type.GetString() == "text" && block.TryGetProperty("text", out var text) && text.GetString() is { Length: > 0 } initial)
        {
            WriteChunk(output, w => w.WriteString("content", initial));
        }
        else if (type.GetString() == "tool_use")
        {
            var name = block.TryGetProperty("name", out var n) ? n.GetString() : null;
            if (_jsonToolName is not null && name == _jsonToolName)
            {
                _jsonToolBlock = index;
                _jsonAnswered = true;
                return;
            }

            var call = _toolIndexByBlock.Count;
            _toolIndexByBlock[index] = call;
            var callId = block.TryGetProperty("id", out var id) ? id.GetString() : null;
            WriteChunk(output, w =>
            {
                w.WriteStartArray("tool_calls");
                w.WriteStartObject();
                w.WriteNumber("index", call);
                w.WriteString("id", callId);
                w.WriteString("type", "function");
                w.WriteStartObject("function");
                w.WriteString("name", name);
                w.WriteString("arguments", "");
                w.WriteEndObject();
                w.WriteEndObject();
                w.WriteEndArray();
            });
        }
    }

    private void Delta(JsonElement root, IBufferWriter<byte> output)
    {
        if (!root.TryGetProperty("delta", out var delta) || !delta.TryGetProperty("type", out var type) || !root.TryGetProperty("index", out var indexElement)
            || !indexElement.TryGetInt32(out var index))
        {
            return;
        }

        switch (type.GetString())
        {
            case "text_delta" when delta.TryGetProperty("text", out var text) && text.GetString() is { Length: > 0 } content:
                WriteChunk(output, w => w.WriteString("content", content));
                break;
            case "input_json_delta" when delta.TryGetProperty("partial_json", out var partial) && partial.GetString() is { Length: > 0 } json:
                if (index == _jsonToolBlock)
                {
                    WriteChunk(output, w => w.WriteString("content", json));
                }
                else if (_toolIndexByBlock.TryGetValue(index, out var call))
                {
                    WriteChunk(output, w =>
                    {
                        w.WriteStartArray("tool_calls");
                        w.WriteStartObject();
                        w.WriteNumber("index", call);
                        w.WriteStartObject("function");
                        w.WriteString("arguments", json);
                        w.WriteEndObject();
                        w.WriteEndObject();
                        w.WriteEndArray();
                    });
                }

                break;
        }
    }

    // data: {"id","object":"chat.completion.chunk","created","model","choices":[{"index":0,"delta":{…},"logprobs":null,"finish_reason":…}]}
    private void WriteChunk(IBufferWriter<byte> output, Action<Utf8JsonWriter>? delta, string? finishReason = null)
    {
        Write(output, "data: "u8);
        using (var writer = new Utf8JsonWriter(output, AnthropicJson.WriterOptions))
        {
            WriteHead(writer);
            writer.WriteStartArray("choices");
            writer.WriteStartObject();
            writer.WriteNumber("index", 0);
            writer.WriteStartObject("delta");
            delta?.Invoke(writer);
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
            writer.WriteEndObject();
        }

        Write(output, "\n\n"u8);
    }

    private void WriteUsageChunk(IBufferWriter<byte> output)
    {
        Write(output, "data: "u8);
        using (var writer = new Utf8JsonWriter(output, AnthropicJson.WriterOptions))
        {
            WriteHead(writer);
            writer.WriteStartArray("choices");
            writer.WriteEndArray();
            _usage.Write(writer);
            writer.WriteEndObject();
        }

        Write(output, "\n\n"u8);
    }

    private void WriteHead(Utf8JsonWriter writer)
    {
        writer.WriteStartObject();
        writer.WriteString("id", _id);
        writer.WriteString("object", "chat.completion.chunk");
        writer.WriteNumber("created", _created);
        writer.WriteString("model", _model);
    }

    private static void Write(IBufferWriter<byte> output, ReadOnlySpan<byte> bytes)
    {
        bytes.CopyTo(output.GetSpan(bytes.Length));
        output.Advance(bytes.Length);
    }
}
