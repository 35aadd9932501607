using System.Text;
using System.Text.Json;

namespace LlmProxy.Providers.Anthropic;

/// <summary>
/// OpenAI <c>messages</c> as Anthropic's: system and developer text joined into <c>system</c>; user, assistant and tool
/// messages as content blocks (text, images from data or http(s) URLs, <c>tool_use</c>, <c>tool_result</c>; consecutive
/// tool results in one user message). Empty text is left out: Anthropic rejects empty text blocks.
/// </summary>
internal static class AnthropicMessages
{
    /// <summary>The text of every system and developer message, joined with blank lines, or null when there is none.</summary>
    public static string? SystemText(JsonElement root)
    {
        var messages = MessagesOf(root);
        StringBuilder? system = null;
        var i = 0;
        foreach (var message in messages.EnumerateArray())
        {
            if (RoleOf(message, i) is "system" or "developer")
            {
                var text = TextOf(message, $"messages[{i}].content");
                if (text.Length > 0)
                {
                    (system ??= new StringBuilder()).Append(system.Length > 0 ? "\n\n" : "").Append(text);
                }
            }

            i++;
        }

        return system?.ToString();
    }

    /// <summary>Writes <c>"messages": [...]</c>.</summary>
    public static void Write(JsonElement root, Utf8JsonWriter writer)
    {
        writer.WriteStartArray("messages");
        var i = 0;
        var written = 0;
        var inToolResults = false;
        foreach (var message in MessagesOf(root).EnumerateArray())
        {
            var role = RoleOf(message, i);
            var path = $"messages[{i}]";
            i++;
            if (role is "system" or "developer")
            {
                continue;
            }

            if (role == "tool")
            {
                if (!inToolResults)
                {
                    writer.WriteStartObject();
                    writer.WriteString("role", "user");
                    writer.WriteStartArray("content");
                    inToolResults = true;
                    written++;
                }

                WriteToolResult(message, path, writer);
                continue;
            }

            if (inToolResults)
            {
                writer.WriteEndArray();
                writer.WriteEndObject();
                inToolResults = false;
            }

            if (role is not ("user" or "assistant"))
            {
                throw new AnthropicRequestException($"The role '{role}' is not supported by Anthropic targets.", path + ".role");
            }

            writer.WriteStartObject();
            writer.WriteString("role", role);
            writer.WriteStartArray("content");
            WriteContent(message, path, writer);
            if (role == "assistant")
            {
                WriteToolUses(message, path, writer);
            }

            writer.WriteEndArray();
            writer.WriteEndObject();
            written++;
        }

        if (inToolResults)
        {
            writer.WriteEndArray();
            writer.WriteEndObject();
        }

        if (written == 0)
        {
            throw new AnthropicRequestException("messages must hold at least one user or assistant message.", "messages");
        }

        writer.WriteEndArray();
    }

    private static JsonElement MessagesOf(JsonElement root)
        => root.TryGetProperty("messages", out var messages) && messages.ValueKind == JsonValueKind.Array
            ? messages
            : throw new AnthropicRequestException("messages must be an array.", "messages");

    private static string RoleOf(JsonElement message, int i)
        => message.ValueKind == JsonValueKind.Object && message.TryGetProperty("role", out var role) && role.ValueKind == JsonValueKind.String
            ? role.GetString()!
            : throw new AnthropicRequestException("Each message must be an object with a string role.", $"messages[{i}].role");

    // The text of a string or text-part content (tool results and system messages).
    private static string TextOf(JsonElement message, string path)
    {
        if (!message.TryGetProperty("content", out var content) || content.ValueKind == JsonValueKind.Null)
        {
            return "";
        }

        if (content.ValueKind == JsonValueKind.String)
        {
            return content.GetString()!;
        }

        if (content.ValueKind != JsonValueKind.Array)
        {
            throw new AnthropicRequestException("content must be a string or an array of parts.", path);
        }

        var text = new StringBuilder();
        foreach (var part in content.EnumerateArray())
        {
            if (part.ValueKind != JsonValueKind.Object || !part.TryGetProperty("type", out var type) || type.GetString() != "text"
                || !part.TryGetProperty("text", out var value) || value.ValueKind != JsonValueKind.String)
            {
                throw new AnthropicRequestException("Only text parts are allowed here.", path);
            }

            text.Append(value.GetString());
        }

        return text.ToString();
    }

    private static void WriteContent(JsonElement message, string path, Utf8JsonWriter writer)
    {
        if (!message.TryGetProperty("content", out var content) || content.ValueKind == JsonValueKind.Null)
        {
            return;
        }

        if (content.ValueKind == JsonValueKind.String)
        {
            WriteText(content.GetString()!, writer);
            return;
        }

        if (content.ValueKind != JsonValueKind.Array)
        {
            throw new AnthropicRequestException("content must be a string or an array of parts.", path + ".content");
        }

        var j = 0;
        foreach (var part in content.EnumerateArray())
        {
            var partPath = $"{path}.content[{j++}]";
            var type = part.ValueKind == JsonValueKind.Object && part.TryGetProperty("type", out var t) ? t.GetString() : null;
            switch (type)
            {
                case "text" when part.TryGetProperty("text", out var text) && text.ValueKind == JsonValueKind.String:
                    WriteText(text.GetString()!, writer);
                    break;
                case "image_url" when part.TryGetProperty("image_url", out var image):
                    AnthropicImages.Write(image, partPath, writer);
                    break;
                default:
                    throw new AnthropicRequestException($"The content part type '{type}' is not supported by Anthropic targets (text and image_url are).", partPath);
            }
        }
    }

    private static void WriteText(string text, Utf8JsonWriter writer)
    {
        if (text.Length == 0)
        {
            return;
        }

        writer.WriteStartObject();
        writer.WriteString("type", "text");
        writer.WriteString("text", text);
        writer.WriteEndObject();
    }

    private static void WriteToolUses(JsonElement message, string path, Utf8JsonWriter writer)
    {
        if (!message.TryGetProperty("tool_calls", out var calls) || calls.ValueKind != JsonValueKind.Array)
        {
            return;
        }

        var j = 0;
        foreach (var call in calls.EnumerateArray())
        {
            var callPath = $"{path}.tool_calls[{j++}]";
            if (call.ValueKind != JsonValueKind.Object || !call.TryGetProperty("id", out var id) || id.ValueKind != JsonValueKind.String
                || !call.TryGetProperty("function", out var function) || function.ValueKind != JsonValueKind.Object
                || !function.TryGetProperty("name", out var name) || name.ValueKind != JsonValueKind.String)
            {
                throw new AnthropicRequestException("A tool call needs an id and a function name.", callPath);
            }

            writer.WriteStartObject();
            writer.WriteString("type", "tool_use");
            writer.WriteString("id", id.GetString());
            writer.WriteString("name", name.GetString());
            writer.WritePropertyName("input");
            var arguments = function.TryGetProperty("arguments", out var a) && a.ValueKind == JsonValueKind.String ? a.GetString()! : "{}";
            try
            {
                using var input = JsonDocument.Parse(arguments.Length == 0 ? "{}" : arguments);
                if (input.RootElement.ValueKind != JsonValueKind.Object)
                {
                    throw new AnthropicRequestException("Tool call arguments must be a JSON object.", callPath + ".function.arguments");
                }

                input.RootElement.WriteTo(writer);
            }
            catch (JsonException)
            {
                throw new AnthropicRequestException("Tool call arguments must be a JSON object.", callPath + ".function.arguments");
            }

            writer.WriteEndObject();
        }
    }

    private static void WriteToolResult(JsonElement message, string path, Utf8JsonWriter writer)
    {
        if (!message.TryGetProperty("tool_call_id", out var id) || id.ValueKind != JsonValueKind.String)
        {
            throw new AnthropicRequestException("A tool message needs a tool_call_id.", path + ".tool_call_id");
        }

        writer.WriteStartObject();
        writer.WriteString("type", "tool_result");
        writer.WriteString("tool_use_id", id.GetString());
        writer.WriteString("content", TextOf(message, path + ".content"));
        writer.WriteEndObject();
    }
}
