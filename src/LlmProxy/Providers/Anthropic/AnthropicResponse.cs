using System.Text;
using System.Text.Json;

namespace LlmProxy.Providers.Anthropic;

/// <summary>
/// An Anthropic message as an OpenAI <c>chat.completion</c>: text blocks joined into <c>content</c>, <c>tool_use</c>
/// blocks as <c>tool_calls</c> (ids kept), the tool that stands for <c>response_format</c> as the content itself,
/// thinking blocks left out, <c>stop_reason</c> as <c>finish_reason</c> (see <see cref="FinishReasonOf(string?)"/>), usage as
/// <see cref="AnthropicUsage"/> writes it.
/// </summary>
internal static class AnthropicResponse
{
    /// <summary>
    /// OpenAI's finish reason for an Anthropic stop reason: end_turn, stop_sequence and pause_turn → stop; max_tokens and
    /// model_context_window_exceeded → length; tool_use → tool_calls; refusal → content_filter; anything else → stop.
    /// </summary>
    public static string FinishReasonOf(string? stopReason) => stopReason switch
    {
        "max_tokens" or "model_context_window_exceeded" => "length",
        "tool_use" => "tool_calls",
        "refusal" => "content_filter",
        _ => "stop",
    };

    /// <summary>The finish reason when the forced <c>response_format</c> tool answered: its call is the answer, not a tool call.</summary>
    public static string FinishReasonOf(string? stopReason, bool jsonToolAnswered)
        => jsonToolAnswered && stopReason == "tool_use" ? "stop" : FinishReasonOf(stopReason);

    /// <summary>Translates; null when the body is not an Anthropic message.</summary>
    public static AnthropicResponseResult? Translate(ReadOnlySpan<byte> anthropicBody, string? jsonToolName, long created)
    {
        try
        {
            using var document = JsonDocument.Parse(anthropicBody.ToArray());
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("type", out var type) || type.GetString() != "message")
            {
                return null;
            }

            return Write(root, jsonToolName, created);
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException)
        {
            return null;
        }
    }

    private static AnthropicResponseResult Write(JsonElement root, string? jsonToolName, long created)
    {
        var usage = new AnthropicUsage();
        if (root.TryGetProperty("usage", out var usageElement))
        {
            usage.Read(usageElement);
        }

        var text = new StringBuilder();
        var toolUses = new List<JsonElement>();
        var jsonAnswered = false;
        if (root.TryGetProperty("content", out var content) && content.ValueKind == JsonValueKind.Array)
        {
            foreach (var block in content.EnumerateArray())
            {
                var blockType = block.TryGetProperty("type", out var t) ? t.GetString() : null;
                if (blockType == "text" && block.TryGetProperty("text", out var blockText))
                {
                    text.Append(blockText.GetString());
                }
                else if (blockType == "tool_use" && jsonToolName is not null && block.TryGetProperty("name", out var name) && name.GetString() == jsonToolName)
                {
                    // The answer to response_format: the tool's input is the JSON the client asked for.
                    text.Clear().Append(block.TryGetProperty("input", out var input) ? input.GetRawText() : "{}");
                    jsonAnswered = true;
                }
                else if (blockType == "tool_use")
                {
                    toolUses.Add(block);
                }
            }
        }

        using var stream = new MemoryStream(256 + text.Length);
        using (var writer = new Utf8JsonWriter(stream, AnthropicJson.WriterOptions))
        {
            writer.WriteStartObject();
            writer.WriteString("id", root.TryGetProperty("id", out var id) ? id.GetString() : null);
            writer.WriteString("object", "chat.completion");
            writer.WriteNumber("created", created);
            writer.WriteString("model", root.TryGetProperty("model", out var model) ? model.GetString() : null);
            writer.WriteStartArray("choices");
            writer.WriteStartObject();
            writer.WriteNumber("index", 0);
            writer.WriteStartObject("message");
            writer.WriteString("role", "assistant");
            if (text.Length == 0 && toolUses.Count > 0)
            {
                writer.WriteNull("content");
            }
            else
            {
                writer.WriteString("content", text.ToString());
            }

            writer.WriteNull("refusal");
            WriteToolCalls(toolUses, writer);
            writer.WriteEndObject();
            writer.WriteNull("logprobs");
            var stopReason = root.TryGetProperty("stop_reason", out var stop) && stop.ValueKind == JsonValueKind.String ? stop.GetString() : null;
            writer.WriteString("finish_reason", FinishReasonOf(stopReason, jsonAnswered));
            writer.WriteEndObject();
            writer.WriteEndArray();
            usage.Write(writer);
            writer.WriteEndObject();
        }

        return new AnthropicResponseResult(stream.ToArray(), usage.ToTokenUsage());
    }

    private static void WriteToolCalls(List<JsonElement> toolUses, Utf8JsonWriter writer)
    {
        if (toolUses.Count == 0)
        {
            return;
        }

        writer.WriteStartArray("tool_calls");
        foreach (var use in toolUses)
        {
            writer.WriteStartObject();
            writer.WriteString("id", use.TryGetProperty("id", out var id) ? id.GetString() : null);
            writer.WriteString("type", "function");
            writer.WriteStartObject("function");
            writer.WriteString("name", use.TryGetProperty("name", out var name) ? name.GetString() : null);
            writer.WriteString("arguments", use.TryGetProperty("input", out var input) ? input.GetRawText() : "{}");
            writer.WriteEndObject();
            writer.WriteEndObject();
        }

        writer.WriteEndArray();
    }
}
