using System.Text.Json;

namespace LlmProxy.Providers.Anthropic;

/// <summary>
/// <c>messages</c>: system and developer messages (wherever they appear) move to the top-level <c>system</c>;
/// user and assistant messages become content-block arrays; consecutive tool messages become ONE user message of
/// <c>tool_result</c> blocks. A message left with no block (empty text, no tool calls) is skipped, since Anthropic
/// rejects empty content; Anthropic itself merges consecutive turns of the same role.
/// </summary>
internal static class AnthropicRequestMessages
{
    /// <summary>Separator between system texts (several messages, several parts, the response_format instruction).</summary>
    public const string SystemSeparator = "\n\n";

    /// <summary>
    /// The top-level <c>system</c>: the texts of all system/developer messages and then <paramref name="instruction"/>,
    /// joined with <see cref="SystemSeparator"/> into one plain string ("" when there is none). Also validates that
    /// <c>messages</c> is a non-empty array of objects with a known role.
    /// </summary>
    public static string SystemOf(JsonElement root, string? instruction)
    {
        if (!root.TryGetProperty("messages", out var messages) || messages.ValueKind != JsonValueKind.Array)
        {
            throw new AnthropicRequestException("'messages' must be an array.", "messages");
        }

        var texts = new List<string>();
        var index = 0;
        foreach (var message in messages.EnumerateArray())
        {
            var param = $"messages[{index++}]";
            if (RoleOf(message, param) is "system" or "developer")
            {
                AddSystemTexts(message, param, texts);
            }
        }

        if (instruction is not null)
        {
            texts.Add(instruction);
        }

        return string.Join(SystemSeparator, texts);
    }

    /// <summary>Writes <c>messages</c>; fails when no user, assistant or tool message is left.</summary>
    public static void Write(JsonElement root, Utf8JsonWriter writer)
    {
        writer.WriteStartArray("messages");
        var written = 0;
        var toolTurnOpen = false;
        var index = 0;
        foreach (var message in root.GetProperty("messages").EnumerateArray())
        {
            var param = $"messages[{index++}]";
            var role = RoleOf(message, param);
            if (role != "tool" && toolTurnOpen)
            {
                EndMessage(writer);
                toolTurnOpen = false;
            }

            switch (role)
            {
                case "tool":
                    if (!toolTurnOpen)
                    {
                        StartMessage(writer, "user");
                        toolTurnOpen = true;
                        written++;
                    }

                    AnthropicRequestContent.WriteToolResult(message, param, writer);
                    break;
                case "user" or "assistant":
                    if (!AnthropicRequestContent.IsEmpty(message))
                    {
                        StartMessage(writer, role);
                        AnthropicRequestContent.WriteBlocks(message, role, param, writer);
                        EndMessage(writer);
                        written++;
                    }

                    break;
            }
        }

        if (toolTurnOpen)
        {
            EndMessage(writer);
        }

        writer.WriteEndArray();
        if (written == 0)
        {
            throw new AnthropicRequestException("'messages' must contain at least one user, assistant or tool message with content.", "messages");
        }
    }

    private static string RoleOf(JsonElement message, string param)
    {
        if (message.ValueKind != JsonValueKind.Object)
        {
            throw new AnthropicRequestException($"'{param}' must be an object.", param);
        }

        if (!message.TryGetProperty("role", out var role) || role.ValueKind != JsonValueKind.String)
        {
            throw new AnthropicRequestException($"'{param}.role' must be a string.", param + ".role");
        }

        return role.GetString() switch
        {
            "system" => "system",
            "developer" => "developer",
            "user" => "user",
            "assistant" => "assistant",
            "tool" => "tool",
            "function" => throw new AnthropicRequestException(
                "The deprecated 'function' role is not supported by Anthropic targets; use tool calls and 'tool' messages.", param + ".role"),
            var other => throw new AnthropicRequestException($"Unknown message role '{other}'.", param + ".role"),
        };
    }

    private static void AddSystemTexts(JsonElement message, string param, List<string> texts)
    {
        foreach (var text in AnthropicRequestContent.TextsOf(message, param))
        {
            if (text.Length > 0)
            {
                texts.Add(text);
            }
        }
    }

    private static void StartMessage(Utf8JsonWriter writer, string role)
    {
        writer.WriteStartObject();
        writer.WriteString("role", role);
        writer.WriteStartArray("content");
    }

    private static void EndMessage(Utf8JsonWriter writer)
    {
        writer.WriteEndArray();
        writer.WriteEndObject();
    }
}
