using System.Text;
using System.Text.Json;

namespace LlmProxy.StructuredOutput;

/// <summary>
/// Puts a streamed chat answer back together from its chunks — content, refusal and tool-call arguments per choice
/// and per tool-call index, and each choice's finish reason — so that it can be validated like a non-streamed one.
/// </summary>
public sealed class StreamAnswerCollector
{
    private readonly SortedDictionary<int, Choice> _choices = [];

    /// <summary>Hears each content delta: the choice index and the text.</summary>
    public Action<int, string>? OnContent { get; set; }

    /// <summary>Hears each tool-call arguments delta: choice index, call index, function name (once known) and text.</summary>
    public Action<int, int, string?, string>? OnArguments { get; set; }

    /// <summary>True when part of the stream could not be read (an event too large to hold): the answer is unknown.</summary>
    public bool Incomplete { get; private set; }

    /// <summary>Marks the answer as not fully seen.</summary>
    public void MarkIncomplete() => Incomplete = true;

    /// <summary>Adds one chunk (the JSON of a <c>data:</c> line).</summary>
    public void Add(ReadOnlySpan<byte> chunk)
    {
        try
        {
            var reader = new Utf8JsonReader(chunk);
            using var document = JsonDocument.ParseValue(ref reader);
            if (!document.RootElement.TryGetProperty("choices", out var choices) || choices.ValueKind != JsonValueKind.Array)
            {
                return;
            }

            foreach (var choice in choices.EnumerateArray())
            {
                var index = choice.TryGetProperty("index", out var i) && i.TryGetInt32(out var n) ? n : 0;
                if (!_choices.TryGetValue(index, out var state))
                {
                    state = new Choice();
                    _choices[index] = state;
                }

                if (choice.TryGetProperty("finish_reason", out var finish) && finish.ValueKind == JsonValueKind.String)
                {
                    state.Finish = finish.GetString();
                }

                if (choice.TryGetProperty("delta", out var delta) && delta.ValueKind == JsonValueKind.Object)
                {
                    state.Add(delta, OnArguments is { } onArguments ? (call, name, text) => onArguments(index, call, name, text) : null);
                    if (OnContent is { } onContent && delta.TryGetProperty("content", out var content) && content.ValueKind == JsonValueKind.String)
                    {
                        onContent(index, content.GetString()!);
                    }
                }
            }
        }
        catch (JsonException)
        {
            Incomplete = true;
        }
    }

    /// <summary>The answer as a non-streamed chat completion body.</summary>
    public byte[] ToCompletion()
    {
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream))
        {
            writer.WriteStartObject();
            writer.WriteStartArray("choices");
            foreach (var (index, choice) in _choices)
            {
                choice.Write(writer, index);
            }

            writer.WriteEndArray();
            writer.WriteEndObject();
        }

        return stream.ToArray();
    }

    private sealed class Choice
    {
        private readonly StringBuilder _content = new();
        private readonly StringBuilder _refusal = new();
        private readonly SortedDictionary<int, (string? Name, StringBuilder Arguments)> _tools = [];
        private bool _hasContent;

        public string? Finish { get; set; }

        public void Add(JsonElement delta, Action<int, string?, string>? onArguments)
        {
            if (delta.TryGetProperty("content", out var content) && content.ValueKind == JsonValueKind.String)
            {
                _hasContent = true;
                _content.Append(content.GetString());
            }

            if (delta.TryGetProperty("refusal", out var refusal) && refusal.ValueKind == JsonValueKind.String)
            {
                _refusal.Append(refusal.GetString());
            }

            if (!delta.TryGetProperty("tool_calls", out var calls) || calls.ValueKind != JsonValueKind.Array)
            {
                return;
            }

            foreach (var call in calls.EnumerateArray())
            {
                var index = call.TryGetProperty("index", out var i) && i.TryGetInt32(out var n) ? n : 0;
                var tool = _tools.TryGetValue(index, out var known) ? known : (null, new StringBuilder());
                if (call.TryGetProperty("function", out var function) && function.ValueKind == JsonValueKind.Object)
                {
                    if (function.TryGetProperty("name", out var name) && name.ValueKind == JsonValueKind.String)
                    {
                        tool.Name = name.GetString();
                    }

                    if (function.TryGetProperty("arguments", out var arguments) && arguments.ValueKind == JsonValueKind.String)
                    {
                        tool.Arguments.Append(arguments.GetString());
                        onArguments?.Invoke(index, tool.Name, arguments.GetString()!);
                    }
                }

                _tools[index] = tool;
            }
        }

        public void Write(Utf8JsonWriter writer, int index)
        {
            writer.WriteStartObject();
            writer.WriteNumber("index", index);
            writer.WriteStartObject("message");
            writer.WriteString("role", "assistant");
            if (_hasContent)
            {
                writer.WriteString("content", _content.ToString());
            }
            else
            {
                writer.WriteNull("content");
            }

            if (_refusal.Length > 0)
            {
                writer.WriteString("refusal", _refusal.ToString());
            }

            if (_tools.Count > 0)
            {
                writer.WriteStartArray("tool_calls");
                foreach (var (_, tool) in _tools)
                {
                    writer.WriteStartObject();
                    writer.WriteString("type", "function");
                    writer.WriteStartObject("function");
                    writer.WriteString("name", tool.Name);
                    writer.WriteString("arguments", tool.Arguments.ToString());
                    writer.WriteEndObject();
                    writer.WriteEndObject();
                }

                writer.WriteEndArray();
            }

            writer.WriteEndObject();
            if (Finish is not null)
            {
                writer.WriteString("finish_reason", Finish);
            }

            writer.WriteEndObject();
        }
    }
}
