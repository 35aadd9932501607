using System.Text.Json;

namespace LlmProxy.Providers.Anthropic;

/// <summary>OpenAI <c>tools</c>, <c>tool_choice</c> and <c>parallel_tool_calls</c> (and the tool that stands for <c>response_format</c>) as Anthropic's.</summary>
internal static class AnthropicTools
{
    /// <summary>Writes <c>tools</c> and <c>tool_choice</c> when there is anything to write.</summary>
    public static void Write(JsonElement root, JsonElement tools, string? jsonTool, JsonElement schema, Utf8JsonWriter writer)
    {
        var hasTools = tools.ValueKind == JsonValueKind.Array;
        if (!hasTools && jsonTool is null)
        {
            return;
        }

        writer.WriteStartArray("tools");
        if (hasTools)
        {
            var i = 0;
            foreach (var tool in tools.EnumerateArray())
            {
                WriteTool(tool, $"tools[{i++}]", writer);
            }
        }
        else
        {
            writer.WriteStartObject();
            writer.WriteString("name", jsonTool);
            writer.WriteString("description", "Respond with the final answer as this tool's input, matching its JSON schema.");
            writer.WritePropertyName("input_schema");
            schema.WriteTo(writer);
            writer.WriteEndObject();
        }

        writer.WriteEndArray();
        var noParallel = root.TryGetProperty("parallel_tool_calls", out var parallel) && parallel.ValueKind == JsonValueKind.False;
        writer.WriteStartObject("tool_choice");
        if (jsonTool is not null)
        {
            writer.WriteString("type", "tool");
            writer.WriteString("name", jsonTool);
        }
        else
        {
            WriteChoice(root, writer, ref noParallel);
        }

        if (noParallel)
        {
            writer.WriteBoolean("disable_parallel_tool_use", true);
        }

        writer.WriteEndObject();
    }

    private static void WriteChoice(JsonElement root, Utf8JsonWriter writer, ref bool noParallel)
    {
        if (!root.TryGetProperty("tool_choice", out var choice) || choice.ValueKind == JsonValueKind.Null)
        {
            writer.WriteString("type", "auto");
            return;
        }

        if (choice.ValueKind == JsonValueKind.String)
        {
            var type = choice.GetString() switch
            {
                "auto" => "auto",
                "none" => "none",
                "required" => "any",
                _ => throw new AnthropicRequestException("tool_choice must be auto, none, required or a named function.", "tool_choice"),
            };
            writer.WriteString("type", type);
            // Anthropic takes disable_parallel_tool_use only where tools may be called.
            noParallel &= type != "none";
            return;
        }

        if (choice.ValueKind == JsonValueKind.Object && choice.TryGetProperty("function", out var function) && function.ValueKind == JsonValueKind.Object
            && function.TryGetProperty("name", out var name) && name.ValueKind == JsonValueKind.String)
        {
            writer.WriteString("type", "tool");
            writer.WriteString("name", name.GetString());
            return;
        }

        throw new AnthropicRequestException("tool_choice must be auto, none, required or a named function.", "tool_choice");
    }

    private static void WriteTool(JsonElement tool, string path, Utf8JsonWriter writer)
    {
        if (tool.ValueKind != JsonValueKind.Object || !tool.TryGetProperty("type", out var type) || type.GetString() != "function"
            || !tool.TryGetProperty("function", out var function) || function.ValueKind != JsonValueKind.Object
            || !function.TryGetProperty("name", out var name) || name.ValueKind != JsonValueKind.String)
        {
            throw new AnthropicRequestException("Only function tools with a name are supported by Anthropic targets.", path);
        }

        writer.WriteStartObject();
        writer.WriteString("name", name.GetString());
        if (function.TryGetProperty("description", out var description) && description.ValueKind == JsonValueKind.String)
        {
            writer.WriteString("description", description.GetString());
        }

        writer.WritePropertyName("input_schema");
        if (function.TryGetProperty("parameters", out var parameters) && parameters.ValueKind == JsonValueKind.Object)
        {
            parameters.WriteTo(writer);
        }
        else
        {
            writer.WriteRawValue("""{"type":"object","properties":{}}""");
        }

        writer.WriteEndObject();
    }
}
