using System.Text.Json;

namespace LlmProxy.Providers.Anthropic;

/// <summary>
/// Message content: strings and <c>text</c> parts become text blocks (empty ones are dropped: Anthropic rejects
/// them), <c>image_url</c> parts image blocks (<c>data:</c> URLs as base64 sources, http(s) URLs as url sources),
/// an assistant's <c>refusal</c> part text. Other part types (input_audio, file, ...) are a 400.
/// </summary>
internal static class AnthropicRequestContent
{
    /// <summary>True when the message would produce no block: no non-empty text or other part, and no tool call.</summary>
    public static bool IsEmpty(JsonElement message)
    {
        if (message.TryGetProperty("tool_calls", out var calls) && calls.ValueKind != JsonValueKind.Null
            && (calls.ValueKind != JsonValueKind.Array || calls.GetArrayLength() > 0))
        {
            return false;
        }

        if (!message.TryGetProperty("content", out var content))
        {
            return true;
        }

        return content.ValueKind switch
        {
            JsonValueKind.Null => true,
            JsonValueKind.String => content.GetString()!.Length == 0,
            JsonValueKind.Array => content.EnumerateArray().All(IsEmptyText),
            _ => false,
        };
    }

    /// <summary>Writes the blocks of a user or assistant message (an assistant's tool calls last).</summary>
    public static void WriteBlocks(JsonElement message, string role, string param, Utf8JsonWriter writer)
    {
        if (message.TryGetProperty("content", out var content))
        {
            switch (content.ValueKind)
            {
                case JsonValueKind.Null:
                    break;
                case JsonValueKind.String:
                    WriteText(content.GetString()!, writer);
                    break;
                case JsonValueKind.Array:
                    var index = 0;
                    foreach (var part in content.EnumerateArray())
                    {
                        WritePart(part, role, $"{param}.content[{index++}]", writer);
                    }

                    break;
                default:
                    throw new AnthropicRequestException($"'{param}.content' must be a string or an array of content parts.", param + ".content");
            }
        }

        if (role == "assistant")
        {
            AnthropicRequestToolCalls.Write(message, param, writer);
        }
    }

    /// <summary>Writes one <c>tool_result</c> block for a <c>tool</c> message (content omitted when empty).</summary>
    public static void WriteToolResult(JsonElement message, string param, Utf8JsonWriter writer)
    {
        if (!message.TryGetProperty("tool_call_id", out var id) || id.ValueKind != JsonValueKind.String || id.GetString()!.Length == 0)
        {
            throw new AnthropicRequestException($"'{param}.tool_call_id' must be a non-empty string.", param + ".tool_call_id");
        }

        var texts = TextsOf(message, param).Where(static text => text.Length > 0).ToList();
        writer.WriteStartObject();
        writer.WriteString("type", "tool_result");
        writer.WriteString("tool_use_id", id.GetString());
        if (texts.Count == 1)
        {
            writer.WriteString("content", texts[0]);
        }
        else if (texts.Count > 1)
        {
            writer.WriteStartArray("content");
            foreach (var text in texts)
            {
                WriteText(text, writer);
            }

            writer.WriteEndArray();
        }

        writer.WriteEndObject();
    }

    /// <summary>The texts of a message whose content must be a string or an array of <c>text</c> parts (system, developer, tool).</summary>
    public static List<string> TextsOf(JsonElement message, string param)
    {
        var texts = new List<string>();
        if (!message.TryGetProperty("content", out var content) || content.ValueKind == JsonValueKind.Null)
        {
            return texts;
        }

        if (content.ValueKind == JsonValueKind.String)
        {
            texts.Add(content.GetString()!);
            return texts;
        }

        if (content.ValueKind != JsonValueKind.Array)
        {
            throw new AnthropicRequestException($"'{param}.content' must be a string or an array of text parts.", param + ".content");
        }

        var index = 0;
        foreach (var part in content.EnumerateArray())
        {
            var partParam = $"{param}.content[{index++}]";
            if (TypeOf(part, partParam) != "text")
            {
                throw new AnthropicRequestException($"'{partParam}' must be a text part in this message.", partParam);
            }

            texts.Add(TextOf(part, partParam, "text"));
        }

        return texts;
    }

    private static bool IsEmptyText(JsonElement part)
        => part.ValueKind == JsonValueKind.Object
            && part.TryGetProperty("type", out var type) && type.ValueKind == JsonValueKind.String && type.ValueEquals("text")
            && part.TryGetProperty("text", out var text) && text.ValueKind == JsonValueKind.String && text.GetString()!.Length == 0;

    private static void WritePart(JsonElement part, string role, string param, Utf8JsonWriter writer)
    {
        switch (TypeOf(part, param))
        {
            case "text":
                WriteText(TextOf(part, param, "text"), writer);
                break;
            case "refusal" when role == "assistant":
                WriteText(TextOf(part, param, "refusal"), writer);
                break;
            case "image_url":
                AnthropicImageSource.Write(part, param, writer);
                break;
            case var other:
                throw new AnthropicRequestException($"Content parts of type '{other}' are not supported by Anthropic targets.", param);
        }
    }

    private static string TypeOf(JsonElement part, string param)
    {
        if (part.ValueKind != JsonValueKind.Object || !part.TryGetProperty("type", out var type) || type.ValueKind != JsonValueKind.String)
        {
            throw new AnthropicRequestException($"'{param}' must be a content part object with a string 'type'.", param);
        }

        return type.GetString()!;
    }

    private static string TextOf(JsonElement part, string param, string name)
    {
        if (!part.TryGetProperty(name, out var text) || text.ValueKind != JsonValueKind.String)
        {
            throw new AnthropicRequestException($"'{param}.{name}' must be a string.", $"{param}.{name}");
        }

        return text.GetString()!;
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
}
