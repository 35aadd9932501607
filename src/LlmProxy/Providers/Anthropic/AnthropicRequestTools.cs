using System.Text.Json;

namespace LlmProxy.Providers.Anthropic;

/// <summary>
/// <c>tools</c>, <c>tool_choice</c> and <c>parallel_tool_calls</c>. Without tools (client or forced json tool)
/// neither <c>tool_choice</c> nor <c>parallel_tool_calls</c> is sent: Anthropic refuses a tool_choice without tools.
/// </summary>
internal static class AnthropicRequestTools
{
    private const string ToolChoiceError = "'tool_choice' must be \"auto\", \"none\", \"required\" or {\"type\":\"function\",\"function\":{\"name\":...}}.";

    /// <summary>True when the client sent a non-empty <c>tools</c> array.</summary>
    public static bool HasTools(JsonElement root)
    {
        if (!root.TryGetProperty("tools", out var tools) || tools.ValueKind == JsonValueKind.Null)
        {
            return false;
        }

        if (tools.ValueKind != JsonValueKind.Array)
        {
            throw new AnthropicRequestException("'tools' must be an array.", "tools");
        }

        return tools.GetArrayLength() > 0;
    }

    /// <summary>Writes <c>tools</c> and <c>tool_choice</c>.</summary>
    public static void Write(JsonElement root, bool hasTools, AnthropicJsonMode jsonMode, Utf8JsonWriter writer)
    {
        if (jsonMode.ToolName is { } forced)
        {
            writer.WriteStartArray("tools");
            jsonMode.WriteTool(writer);
            writer.WriteEndArray();
            writer.WriteStartObject("tool_choice");
            writer.WriteString("type", "tool");
            writer.WriteString("name", forced);
            writer.WriteEndObject();
            return;
        }

        if (!hasTools)
        {
            return;
        }

        writer.WriteStartArray("tools");
        var index = 0;
        foreach (var tool in root.GetProperty("tools").EnumerateArray())
        {
            WriteTool(tool, index++, writer);
        }

        writer.WriteEndArray();
        WriteToolChoice(root, writer);
    }

    private static void WriteTool(JsonElement tool, int index, Utf8JsonWriter writer)
    {
        var param = $"tools[{index}]";
        if (tool.ValueKind != JsonValueKind.Object)
        {
            throw new AnthropicRequestException($"'{param}' must be an object.", param);
        }

        if (!tool.TryGetProperty("type", out var type) || type.ValueKind != JsonValueKind.String || !type.ValueEquals("function"))
        {
            throw new AnthropicRequestException("Anthropic targets support only tools of type 'function'.", param + ".type");
        }

        if (!tool.TryGetProperty("function", out var function) || function.ValueKind != JsonValueKind.Object)
        {
            throw new AnthropicRequestException($"'{param}.function' must be an object.", param + ".function");
        }

        if (!function.TryGetProperty("name", out var name) || name.ValueKind != JsonValueKind.String || name.GetString()!.Length == 0)
        {
            throw new AnthropicRequestException($"'{param}.function.name' must be a non-empty string.", param + ".function.name");
        }

        writer.WriteStartObject();
        writer.WriteString("name", name.GetString());
        if (function.TryGetProperty("description", out var description) && description.ValueKind == JsonValueKind.String)
        {
            writer.WriteString("description", description.GetString());
        }

        writer.WritePropertyName("input_schema");
        if (function.TryGetProperty("parameters", out var parameters) && parameters.ValueKind != JsonValueKind.Null)
        {
            if (parameters.ValueKind != JsonValueKind.Object)
            {
                throw new AnthropicRequestException($"'{param}.function.parameters' must be a JSON schema object.", param + ".function.parameters");
            }

            parameters.WriteTo(writer);
        }
        else
        {
            writer.WriteStartObject();
            writer.WriteString("type", "object");
            writer.WriteStartObject("properties");
            writer.WriteEndObject();
            writer.WriteEndObject();
        }

        writer.WriteEndObject();
    }

    /// <summary>
    /// auto → auto, none → none, required → any, a named function → tool; <c>parallel_tool_calls: false</c> adds
    /// <c>disable_parallel_tool_use: true</c> (creating an auto choice when there is none), except on none.
    /// </summary>
    private static void WriteToolChoice(JsonElement root, Utf8JsonWriter writer)
    {
        var serial = false;
        if (root.TryGetProperty("parallel_tool_calls", out var parallel) && parallel.ValueKind != JsonValueKind.Null)
        {
            if (parallel.ValueKind is not (JsonValueKind.True or JsonValueKind.False))
            {
                throw new AnthropicRequestException("'parallel_tool_calls' must be a boolean.", "parallel_tool_calls");
            }

            serial = parallel.ValueKind == JsonValueKind.False;
        }

        var (type, name) = ChoiceOf(root);
        if (type is null && !serial)
        {
            return;
        }

        type ??= "auto";
        writer.WriteStartObject("tool_choice");
        writer.WriteString("type", type);
        if (name is not null)
        {
            writer.WriteString("name", name);
        }

        if (serial && type != "none")
        {
            writer.WriteBoolean("disable_parallel_tool_use", true);
        }

        writer.WriteEndObject();
    }

    private static (string? Type, string? Name) ChoiceOf(JsonElement root)
    {
        if (!root.TryGetProperty("tool_choice", out var choice) || choice.ValueKind == JsonValueKind.Null)
        {
            return (null, null);
        }

        if (choice.ValueKind == JsonValueKind.String)
        {
            return choice.GetString() switch
            {
                "auto" => ("auto", null),
                "none" => ("none", null),
                "required" => ("any", null),
                _ => throw new AnthropicRequestException(ToolChoiceError, "tool_choice"),
            };
        }

        if (choice.ValueKind == JsonValueKind.Object
            && choice.TryGetProperty("type", out var type) && type.ValueKind == JsonValueKind.String && type.ValueEquals("function")
            && choice.TryGetProperty("function", out var function) && function.ValueKind == JsonValueKind.Object
            && function.TryGetProperty("name", out var name) && name.ValueKind == JsonValueKind.String)
        {
            return ("tool", name.GetString());
        }

        throw new AnthropicRequestException(ToolChoiceError, "tool_choice");
    }
}
