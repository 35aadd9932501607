using System.Runtime.InteropServices;
using System.Text.Json;
using Json.Schema;
using LlmProxy.Configuration;

namespace LlmProxy.StructuredOutput;

/// <summary>What a chat request said its answer must look like: a JSON object, a schema, and its tools' parameters.</summary>
public sealed class OutputExpectation
{
    private static readonly JsonDocument AnyObject = JsonDocument.Parse("""{"type":"object"}""");

    /// <summary>True for <c>response_format: {type: "json_object"}</c> or <c>json_schema</c>.</summary>
    public bool ContentIsJson { get; init; }

    /// <summary>The schema of <c>response_format.json_schema.schema</c>, when given.</summary>
    public JsonSchema? ContentSchema { get; init; }

    /// <summary>The same schema as JSON (for the incremental check of streams); <c>{"type":"object"}</c> for json_object.</summary>
    public JsonElement? ContentSchemaJson { get; init; }

    /// <summary>Tool functions by name, with their parameters schema (null: any JSON object).</summary>
    public Dictionary<string, JsonSchema?> Tools { get; init; } = new(StringComparer.Ordinal);

    /// <summary>The same parameters schemas as JSON, for the incremental check of streamed arguments.</summary>
    public Dictionary<string, JsonElement> ToolsJson { get; init; } = new(StringComparer.Ordinal);

    /// <summary>The policy in force for the request.</summary>
    public required StructuredOutputPolicy Policy { get; init; }

    /// <summary>Under <c>retry</c>: attempts in all.</summary>
    public int MaxAttempts { get; set; } = 2;

    /// <summary>Under <c>retry</c>: whether the invalid answer and its violations are sent back to the model.</summary>
    public bool RepairMessage { get; set; } = true;

    /// <summary>Streams under reject/retry: hold events until the answer is validated.</summary>
    public bool StreamBuffer { get; set; }

    /// <summary>Under <c>retry</c>: whether each attempt goes to the model's next target (else the same one).</summary>
    public bool RetryNextTarget { get; set; } = true;

    /// <summary>True when nothing is checked (no json response format and no tools).</summary>
    public bool IsEmpty => !ContentIsJson && Tools.Count == 0;

    /// <summary>
    /// Reads <c>response_format</c> and <c>tools</c> from the request body, their schemas compiled through
    /// <paramref name="schemas"/>. Returns null and the reason (with the parameter) when a schema cannot be used.
    /// </summary>
    public static OutputExpectation? Read(SchemaCache schemas, ReadOnlySpan<byte> body, Range? responseFormat, Range? tools, StructuredOutputPolicy policy, out string? error, out string? param)
    {
        error = null;
        param = null;
        var contentIsJson = false;
        JsonSchema? contentSchema = null;
        JsonElement? contentSchemaJson = null;
        var toolSchemas = new Dictionary<string, JsonSchema?>(StringComparer.Ordinal);
        var toolJson = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
        if (responseFormat is { } formatRange)
        {
            var formatReader = new Utf8JsonReader(body[formatRange]);
            using var format = JsonDocument.ParseValue(ref formatReader);
            var root = format.RootElement;
            var type = root.ValueKind == JsonValueKind.Object && root.TryGetProperty("type", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString() : null;
            if (type == "json_object")
            {
                contentIsJson = true;
                contentSchemaJson = AnyObject.RootElement;
            }
            else if (type == "json_schema")
            {
                contentIsJson = true;
                if (root.TryGetProperty("json_schema", out var jsonSchema) && jsonSchema.ValueKind == JsonValueKind.Object
                    && jsonSchema.TryGetProperty("schema", out var schema))
                {
                    contentSchemaJson = schema.Clone();
                    contentSchema = schemas.Get(JsonMarshal.GetRawUtf8Value(schema), out var why);
                    if (contentSchema is null)
                    {
                        error = "Invalid schema for response_format: " + Errors.ErrorText.Clip(why);
                        param = "response_format.json_schema.schema";
                        return null;
                    }
                }
            }
        }

        if (tools is { } toolsRange)
        {
            var toolsReader = new Utf8JsonReader(body[toolsRange]);
            using var document = JsonDocument.ParseValue(ref toolsReader);
            if (document.RootElement.ValueKind == JsonValueKind.Array)
            {
                var index = 0;
                foreach (var tool in document.RootElement.EnumerateArray())
                {
                    if (tool.ValueKind == JsonValueKind.Object && tool.TryGetProperty("function", out var function) && function.ValueKind == JsonValueKind.Object
                        && function.TryGetProperty("name", out var name) && name.ValueKind == JsonValueKind.String)
                    {
                        JsonSchema? parameters = null;
                        if (function.TryGetProperty("parameters", out var schema))
                        {
                            parameters = schemas.Get(JsonMarshal.GetRawUtf8Value(schema), out var why);
                            if (parameters is null)
                            {
                                error = $"Invalid schema for function '{Errors.ErrorText.Clip(name.GetString())}': " + Errors.ErrorText.Clip(why);
                                param = $"tools[{index}].function.parameters";
                                return null;
                            }
                        }

                        toolSchemas[name.GetString()!] = parameters;
                        toolJson[name.GetString()!] = parameters is null ? AnyObject.RootElement : schema.Clone();
                    }

                    index++;
                }
            }
        }

        return new OutputExpectation
        {
            ContentIsJson = contentIsJson,
            ContentSchema = contentSchema,
            ContentSchemaJson = contentSchemaJson,
            Tools = toolSchemas,
            ToolsJson = toolJson,
            Policy = policy,
        };
    }
}
