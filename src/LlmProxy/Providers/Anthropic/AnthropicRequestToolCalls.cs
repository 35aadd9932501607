using System.Text.Json;

namespace LlmProxy.Providers.Anthropic;

/// <summary>
/// An assistant's <c>tool_calls</c> as <c>tool_use</c> blocks whose <c>input</c> is the parsed
/// <c>function.arguments</c>. Arguments must be a JSON object; an empty (or all-blank) string counts as <c>{}</c>,
/// which some clients send for functions without parameters.
/// </summary>
internal static class AnthropicRequestToolCalls
{
    /// <summary>Writes the tool_use blocks of <paramref name="message"/> (nothing when it has no tool calls).</summary>
    public static void Write(JsonElement message, string param, Utf8JsonWriter writer)
    {
        if (!message.TryGetProperty("tool_calls", out var calls) || calls.ValueKind == JsonValueKind.Null)
        {
            return;
        }

        if (calls.ValueKind != JsonValueKind.Array)
        {
            throw new AnthropicRequestException($"'{param}.tool_calls' must be an array.", param + ".tool_calls");
        }

        var index = 0;
        foreach (var call in calls.EnumerateArray())
        {
            WriteCall(call, $"{param}.tool_calls[{index++}]", writer);
        }
    }

    private static void WriteCall(JsonElement call, string param, Utf8JsonWriter writer)
    {
        if (call.ValueKind != JsonValueKind.Object)
        {
            throw new AnthropicRequestException($"'{param}' must be an object.", param);
        }

        if (call.TryGetProperty("type", out var type) && !(type.ValueKind == JsonValueKind.String && type.ValueEquals("function")))
        {
            throw new AnthropicRequestException("Anthropic targets support only tool calls of type 'function'.", param + ".type");
        }

        if (!call.TryGetProperty("id", out var id) || id.ValueKind != JsonValueKind.String || id.GetString()!.Length == 0)
        {
            throw new AnthropicRequestException($"'{param}.id' must be a non-empty string.", param + ".id");
        }

        if (!call.TryGetProperty("function", out var function) || function.ValueKind != JsonValueKind.Object)
        {
            throw new AnthropicRequestException($"'{param}.function' must be an object.", param + ".function");
        }

        if (!function.TryGetProperty("name", out var name) || name.ValueKind != JsonValueKind.String || name.GetString()!.Length == 0)
        {
            throw new AnthropicRequestException($"'{param}.function.name' must be a non-empty string.", param + ".function.name");
        }

        writer.WriteStartObject();
        writer.WriteString("type", "tool_use");
        writer.WriteString("id", id.GetString());
        writer.WriteString("name", name.GetString());
        writer.WritePropertyName("input");
        WriteInput(function, param + ".function.arguments", writer);
        writer.WriteEndObject();
    }

    private static void WriteInput(JsonElement function, string param, Utf8JsonWriter writer)
    {
        const string Message = "Tool call arguments must be a JSON object (serialized as a string).";
        if (!function.TryGetProperty("arguments", out var arguments) || arguments.ValueKind == JsonValueKind.Null)
        {
            WriteEmptyObject(writer);
            return;
        }

        if (arguments.ValueKind == JsonValueKind.Object)
        {
            arguments.WriteTo(writer);
            return;
        }

        if (arguments.ValueKind != JsonValueKind.String)
        {
            throw new AnthropicRequestException(Message, param);
        }

        var text = arguments.GetString()!;
        if (string.IsNullOrWhiteSpace(text))
        {
            WriteEmptyObject(writer);
            return;
        }

        try
        {
            using var parsed = JsonDocument.Parse(text);
            if (parsed.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw new AnthropicRequestException(Message, param);
            }

            parsed.RootElement.WriteTo(writer);
        }
        catch (JsonException)
        {
            throw new AnthropicRequestException(Message, param);
        }
    }

    private static void WriteEmptyObject(Utf8JsonWriter writer)
    {
        writer.WriteStartObject();
        writer.WriteEndObject();
    }
}
