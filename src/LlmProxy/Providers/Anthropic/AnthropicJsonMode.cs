using System.Text.Json;

namespace LlmProxy.Providers.Anthropic;

/// <summary>
/// How an OpenAI <c>response_format</c> is emulated (Anthropic has no such field). A <c>json_schema</c> format on a
/// request without tools becomes a forced tool (<see cref="ToolName"/>) whose input is the answer; with client tools
/// it cannot be forced, so the schema goes into the system prompt instead (<see cref="SystemInstruction"/>), as does
/// <c>json_object</c>. The gateway validates answers against the schema itself.
/// </summary>
/// <remarks>
/// Anthropic requires a tool's <c>input_schema</c> to be an object schema. For the forced tool a schema with
/// <c>"type":"object"</c> is sent as is; an object schema without <c>type</c> gets <c>"type":"object"</c> added
/// (a stricter schema whose answers still satisfy the original); the boolean schema <c>true</c> becomes
/// <c>{"type":"object"}</c>; any other root (<c>false</c>, another <c>type</c>) is a 400 on
/// <c>response_format.json_schema.schema</c> rather than a silently different answer shape.
/// </remarks>
internal readonly record struct AnthropicJsonMode(string? ToolName, string? SystemInstruction, JsonElement Schema, string? Description)
{
    /// <summary>The fixed name of the forced tool that carries a <c>json_schema</c> answer.</summary>
    public const string JsonToolName = "json_response";

    private const string ToolDescription = "Respond with the final answer as this tool's input, matching its JSON schema.";

    private const string JsonObjectInstruction = "Answer with only a JSON object.";

    private const string SchemaInstruction = "Answer with only a JSON object that matches this JSON schema: ";

    /// <summary>Reads <c>response_format</c>; <paramref name="hasTools"/> says whether the client sent tools.</summary>
    public static AnthropicJsonMode Of(JsonElement root, bool hasTools)
    {
        if (!root.TryGetProperty("response_format", out var format) || format.ValueKind == JsonValueKind.Null)
        {
            return default;
        }

        if (format.ValueKind != JsonValueKind.Object || !format.TryGetProperty("type", out var type) || type.ValueKind != JsonValueKind.String)
        {
            throw new AnthropicRequestException("'response_format' must be an object with a string 'type'.", "response_format");
        }

        switch (type.GetString())
        {
            case "text":
                return default;
            case "json_object":
                return new AnthropicJsonMode(null, JsonObjectInstruction, default, null);
            case "json_schema":
                return OfSchema(format, hasTools);
            default:
                throw new AnthropicRequestException($"response_format type '{type.GetString()}' is not supported.", "response_format.type");
        }
    }

    private static AnthropicJsonMode OfSchema(JsonElement format, bool hasTools)
    {
        if (!format.TryGetProperty("json_schema", out var jsonSchema) || jsonSchema.ValueKind != JsonValueKind.Object)
        {
            throw new AnthropicRequestException("'response_format.json_schema' must be an object.", "response_format.json_schema");
        }

        if (!jsonSchema.TryGetProperty("schema", out var schema) || schema.ValueKind == JsonValueKind.Null)
        {
            // No schema: any JSON object will do.
            return new AnthropicJsonMode(null, JsonObjectInstruction, default, null);
        }

        if (hasTools)
        {
            return new AnthropicJsonMode(null, SchemaInstruction + schema.GetRawText(), default, null);
        }

        CheckForcedSchema(schema);
        return new AnthropicJsonMode(JsonToolName, null, schema, DescriptionOf(jsonSchema));
    }

    private static void CheckForcedSchema(JsonElement schema)
    {
        if (schema.ValueKind == JsonValueKind.True)
        {
            return;
        }

        if (schema.ValueKind == JsonValueKind.Object
            && (!schema.TryGetProperty("type", out var type) || (type.ValueKind == JsonValueKind.String && type.ValueEquals("object"))))
        {
            return;
        }

        throw new AnthropicRequestException(
            "Anthropic targets need a response_format schema whose root is an object schema (\"type\": \"object\") when the request has no tools.",
            "response_format.json_schema.schema");
    }

    private static string DescriptionOf(JsonElement jsonSchema)
    {
        var description = ToolDescription;
        if (jsonSchema.TryGetProperty("name", out var name) && name.ValueKind == JsonValueKind.String && name.GetString() is { Length: > 0 } schemaName)
        {
            description += $" The schema is named '{schemaName}'.";
        }

        if (jsonSchema.TryGetProperty("description", out var about) && about.ValueKind == JsonValueKind.String && about.GetString() is { Length: > 0 } text)
        {
            description += " " + text;
        }

        return description;
    }

    /// <summary>Writes the forced tool (name, description, input_schema) as one element of <c>tools</c>.</summary>
    public void WriteTool(Utf8JsonWriter writer)
    {
        writer.WriteStartObject();
        writer.WriteString("name", ToolName);
        writer.WriteString("description", Description);
        writer.WritePropertyName("input_schema");
        if (Schema.ValueKind == JsonValueKind.Object && Schema.TryGetProperty("type", out _))
        {
            Schema.WriteTo(writer);
        }
        else
        {
            writer.WriteStartObject();
            writer.WriteString("type", "object");
            if (Schema.ValueKind == JsonValueKind.Object)
            {
                foreach (var property in Schema.EnumerateObject())
                {
                    property.WriteTo(writer);
                }
            }

            writer.WriteEndObject();
        }

        writer.WriteEndObject();
    }
}
