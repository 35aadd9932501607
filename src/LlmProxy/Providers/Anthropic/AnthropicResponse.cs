using System.Buffers;
using System.Text;
using System.Text.Json;

namespace LlmProxy.Providers.Anthropic;

/// <summary>
/// Translates an Anthropic message (non-streaming <c>/v1/messages</c> answer) into an OpenAI <c>chat.completion</c>.
/// Text blocks and the forced json tool's input (serialized compactly) make <c>content</c>, in block order;
/// other <c>tool_use</c> blocks become <c>tool_calls</c>; thinking and server-tool blocks are dropped.
/// </summary>
internal static class AnthropicResponse
{
    /// <summary>
    /// Anthropic <c>stop_reason</c> → OpenAI <c>finish_reason</c>: end_turn, stop_sequence, pause_turn → stop;
    /// max_tokens, model_context_window_exceeded → length; tool_use → tool_calls; refusal → content_filter;
    /// null or unknown → stop.
    /// </summary>
    public static string FinishReasonOf(string? stopReason) => stopReason switch
    {
        "max_tokens" or "model_context_window_exceeded" => "length",
        "tool_use" => "tool_calls",
        "refusal" => "content_filter",
        _ => "stop",
    };

    /// <summary>
    /// The finish reason when the forced json tool may be involved: a tool_use stop without any real tool call is a
    /// plain stop (the answer is the content).
    /// </summary>
    public static string FinishReasonOf(string? stopReason, int toolCalls)
    {
        var reason = FinishReasonOf(stopReason);
        return reason == "tool_calls" && toolCalls == 0 ? "stop" : reason;
    }

    /// <summary>
    /// Translates the body, or returns null when it is not an Anthropic message (<c>type: "message"</c>) or holds a
    /// string that cannot be decoded (a lone surrogate escape): either way an answer the gateway cannot read.
    /// </summary>
    public static AnthropicResponseResult? Translate(ReadOnlySpan<byte> anthropicBody, string? jsonToolName, long created)
    {
        try
        {
            var reader = new Utf8JsonReader(anthropicBody);
            using var document = JsonDocument.ParseValue(ref reader);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object
                || !root.TryGetProperty("type", out var type) || type.ValueKind != JsonValueKind.String || !type.ValueEquals("message"))
            {
                return null;
            }

            return Write(root, jsonToolName, created);
        }
        catch (Exception ex) when (ex is JsonException || AnthropicJson.IsUndecodable(ex))
        {
            return null;
        }
    }

    private static AnthropicResponseResult Write(JsonElement root, string? jsonToolName, long created)
    {
        var content = new StringBuilder();
        var calls = new List<JsonElement>();
        var hasContent = false;
        if (root.TryGetProperty("content", out var blocks) && blocks.ValueKind == JsonValueKind.Array)
        {
            foreach (var block in blocks.EnumerateArray())
            {
                switch (StringOf(block, "type"))
                {
                    case "text":
                        content.Append(StringOf(block, "text"));
                        hasContent = true;
                        break;
                    case "tool_use" when jsonToolName is not null && StringOf(block, "name") == jsonToolName:
                        content.Append(block.TryGetProperty("input", out var input) ? Compact(input) : "{}");
                        hasContent = true;
                        break;
                    case "tool_use":
                        calls.Add(block);
                        break;
                }
            }
        }

        var usage = default(AnthropicUsage);
        if (root.TryGetProperty("usage", out var usageElement))
        {
            usage.Update(usageElement);
        }

        var buffer = new ArrayBufferWriter<byte>(512 + content.Length);
        using (var writer = new Utf8JsonWriter(buffer, AnthropicJson.WriterOptions))
        {
            writer.WriteStartObject();
            writer.WriteString("id", StringOf(root, "id") ?? string.Empty);
            writer.WriteString("object", "chat.completion");
            writer.WriteNumber("created", created);
            writer.WriteString("model", StringOf(root, "model") ?? string.Empty);
            writer.WriteStartArray("choices");
            writer.WriteStartObject();
            writer.WriteNumber("index", 0);
            writer.WriteStartObject("message");
            writer.WriteString("role", "assistant");
            if (!hasContent && calls.Count > 0)
            {
                writer.WriteNull("content");
            }
            else
            {
                writer.WriteString("content", content.ToString());
            }

            writer.WriteNull("refusal");
            WriteToolCalls(calls, writer);
            writer.WriteEndObject();
            writer.WriteNull("logprobs");
            writer.WriteString("finish_reason", FinishReasonOf(StringOf(root, "stop_reason"), calls.Count));
            writer.WriteEndObject();
            writer.WriteEndArray();
            usage.Write(writer);
            writer.WriteEndObject();
        }

        return new AnthropicResponseResult(buffer.WrittenSpan.ToArray(), usage.ToTokenUsage());
    }

    private static void WriteToolCalls(List<JsonElement> calls, Utf8JsonWriter writer)
    {
        if (calls.Count == 0)
        {
            return;
        }

        writer.WriteStartArray("tool_calls");
        foreach (var call in calls)
        {
            writer.WriteStartObject();
            writer.WriteString("id", StringOf(call, "id") ?? string.Empty);
            writer.WriteString("type", "function");
            writer.WriteStartObject("function");
            writer.WriteString("name", StringOf(call, "name") ?? string.Empty);
            writer.WriteString("arguments", call.TryGetProperty("input", out var input) ? Compact(input) : "{}");
            writer.WriteEndObject();
            writer.WriteEndObject();
        }

        writer.WriteEndArray();
    }

    /// <summary>The element serialized without whitespace (non-ASCII kept as is).</summary>
    internal static string Compact(JsonElement element)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer, AnthropicJson.WriterOptions))
        {
            element.WriteTo(writer);
        }

        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    /// <summary>The string property <paramref name="name"/>, or null when absent or not a string.</summary>
    internal static string? StringOf(JsonElement element, string name)
        => element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String
            ? value.GetString()
            : null;
}
