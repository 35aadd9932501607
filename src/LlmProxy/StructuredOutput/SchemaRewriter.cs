using System.Buffers;
using System.Collections.Frozen;
using System.Text;
using System.Text.Json;

namespace LlmProxy.StructuredOutput;

/// <summary>
/// Prepares a request's schema for JsonSchema.Net at compile time: every <c>pattern</c> and <c>patternProperties</c>
/// regex is rewritten from ECMA-262 into .NET syntax (<see cref="EcmaPattern"/>), and in every schema object
/// <c>$schema</c> and <c>$id</c> move first, since JsonSchema.Net applies keywords in text order and would otherwise
/// resolve the <c>$ref</c>s and subschemas written before an <c>$id</c> against the outer base URI. Only schema
/// positions are walked (not <c>const</c>, <c>enum</c>, <c>default</c>… whose values are data).
/// </summary>
internal static class SchemaRewriter
{
    private static readonly FrozenSet<string> OneSchema = new[]
    {
        "additionalProperties", "items", "contains", "propertyNames", "not", "if", "then", "else", "unevaluatedItems",
        "unevaluatedProperties", "additionalItems", "contentSchema",
    }.ToFrozenSet(StringComparer.Ordinal);

    private static readonly FrozenSet<string> SchemaArray = new[] { "allOf", "anyOf", "oneOf", "prefixItems", "items" }.ToFrozenSet(StringComparer.Ordinal);

    private static readonly FrozenSet<string> SchemaMap = new[]
    {
        "properties", "patternProperties", "$defs", "definitions", "dependentSchemas", "dependencies",
    }.ToFrozenSet(StringComparer.Ordinal);

    /// <summary>The schema to compile: <paramref name="text"/> itself when nothing needs rewriting; null and why when a regex cannot be expressed.</summary>
    public static string? Rewrite(string text, JsonElement root, out string? error)
    {
        error = null;
        var buffer = new ArrayBufferWriter<byte>(text.Length + 64);
        var changed = false;
        using (var writer = new Utf8JsonWriter(buffer))
        {
            if (!Schema(root, writer, ref changed, ref error))
            {
                return null;
            }
        }

        return changed ? Encoding.UTF8.GetString(buffer.WrittenSpan) : text;
    }

    private static bool Schema(JsonElement schema, Utf8JsonWriter writer, ref bool changed, ref string? error)
    {
        if (schema.ValueKind != JsonValueKind.Object)
        {
            schema.WriteTo(writer);
            return true;
        }

        writer.WriteStartObject();
        var index = 0;
        var firsts = 0;
        foreach (var name in (ReadOnlySpan<string>)["$schema", "$id"])
        {
            if (schema.TryGetProperty(name, out var value))
            {
                writer.WritePropertyName(name);
                value.WriteTo(writer);
                firsts++;
            }
        }

        foreach (var property in schema.EnumerateObject())
        {
            var isFirst = property.NameEquals("$schema") || property.NameEquals("$id");
            changed |= isFirst && index >= firsts;
            index++;
            if (isFirst)
            {
                continue;
            }

            writer.WritePropertyName(property.Name);
            if (!Keyword(property, writer, ref changed, ref error))
            {
                return false;
            }
        }

        writer.WriteEndObject();
        return true;
    }

    private static bool Keyword(JsonProperty property, Utf8JsonWriter writer, ref bool changed, ref string? error)
    {
        var value = property.Value;
        if (property.NameEquals("pattern") && value.ValueKind == JsonValueKind.String)
        {
            var pattern = value.GetString()!;
            if (EcmaPattern.Translate(pattern, out error) is not { } translated)
            {
                return false;
            }

            changed |= !string.Equals(translated, pattern, StringComparison.Ordinal);
            writer.WriteStringValue(translated);
            return true;
        }

        if (value.ValueKind == JsonValueKind.Array && SchemaArray.Contains(property.Name))
        {
            writer.WriteStartArray();
            foreach (var item in value.EnumerateArray())
            {
                if (!Schema(item, writer, ref changed, ref error))
                {
                    return false;
                }
            }

            writer.WriteEndArray();
            return true;
        }

        if (value.ValueKind == JsonValueKind.Object && SchemaMap.Contains(property.Name))
        {
            var patterns = property.NameEquals("patternProperties");
            writer.WriteStartObject();
            foreach (var entry in value.EnumerateObject())
            {
                var name = entry.Name;
                if (patterns)
                {
                    if (EcmaPattern.Translate(name, out error) is not { } translated)
                    {
                        return false;
                    }

                    changed |= !string.Equals(translated, name, StringComparison.Ordinal);
                    name = translated;
                }

                writer.WritePropertyName(name);
                if (!Schema(entry.Value, writer, ref changed, ref error))
                {
                    return false;
                }
            }

            writer.WriteEndObject();
            return true;
        }

        if (OneSchema.Contains(property.Name))
        {
            return Schema(value, writer, ref changed, ref error);
        }

        value.WriteTo(writer);
        return true;
    }
}
