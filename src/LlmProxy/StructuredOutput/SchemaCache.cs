using System.Collections.Concurrent;
using System.IO.Hashing;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Json.Schema;

namespace LlmProxy.StructuredOutput;

/// <summary>
/// Compiles the JSON Schemas requests carry (JsonSchema.Net, draft 2020-12, format validation on) and keeps them by a
/// hash of their text, bounded. A schema that cannot be used — bad JSON Schema, a bad regex, a <c>$ref</c> that does
/// not resolve inside the schema (nothing is ever fetched) — is the client's error.
/// </summary>
public static class SchemaCache
{
    private const int Limit = 1000;
    private static readonly ConcurrentDictionary<(ulong Hash, int Length), JsonSchema> Compiled = new();

    /// <summary>Most compiled schemas kept; when full, the cache starts again empty (concurrent inserts may pass it by a few for a moment).</summary>
    public const int MaxEntries = Limit;

    /// <summary>Compiled schemas kept now.</summary>
    internal static int Count => Compiled.Count;

    /// <summary>Compiles (or finds) a schema; returns null and why when it cannot be used.</summary>
    public static JsonSchema? Get(ReadOnlySpan<byte> schemaJson, out string? error)
    {
        error = null;
        var key = (XxHash3.HashToUInt64(schemaJson), schemaJson.Length);
        if (Compiled.TryGetValue(key, out var cached))
        {
            return cached;
        }

        var schema = Compile(Encoding.UTF8.GetString(schemaJson), out error);
        if (schema is null)
        {
            return null;
        }

        if (Compiled.Count >= Limit)
        {
            Compiled.Clear();
        }

        Compiled[key] = schema;
        return schema;
    }

    private static JsonSchema? Compile(string text, out string? error)
    {
        error = null;
        try
        {
            using (var document = JsonDocument.Parse(text))
            {
                if (FirstUnresolvableRef(document.RootElement, document.RootElement) is { } reference)
                {
                    error = $"$ref '{reference}' does not resolve inside the schema (only local references such as '#/$defs/name' are allowed)";
                    return null;
                }
            }

            // A registry of its own per schema (the global one rejects a repeated $id), and it never fetches.
            var registry = new SchemaRegistry { Fetch = static (_, _) => null };
            return JsonSchema.FromText(text, new BuildOptions { Dialect = Dialect.Draft202012, SchemaRegistry = registry });
        }
        catch (Exception ex) when (ex is JsonException or JsonSchemaException or RegexParseException or ArgumentException or RefResolutionException)
        {
            error = ex.Message;
            return null;
        }
    }

    // Every $ref must be a local JSON Pointer ("#", "#/...") that exists in the document.
    private static string? FirstUnresolvableRef(JsonElement root, JsonElement node)
    {
        switch (node.ValueKind)
        {
            case JsonValueKind.Object:
                foreach (var property in node.EnumerateObject())
                {
                    if (property.NameEquals("$ref") && property.Value.ValueKind == JsonValueKind.String)
                    {
                        var reference = property.Value.GetString()!;
                        if (Resolve(root, reference) is null)
                        {
                            return reference;
                        }
                    }
                    else if (FirstUnresolvableRef(root, property.Value) is { } bad)
                    {
                        return bad;
                    }
                }

                return null;
            case JsonValueKind.Array:
                foreach (var item in node.EnumerateArray())
                {
                    if (FirstUnresolvableRef(root, item) is { } bad)
                    {
                        return bad;
                    }
                }

                return null;
            default:
                return null;
        }
    }

    /// <summary>
    /// The element a local <c>$ref</c> (<c>#</c>, <c>#/$defs/name</c>, escaped tokens and array indexes) points at in
    /// <paramref name="root"/>, or null when it does not resolve there.
    /// </summary>
    internal static JsonElement? Resolve(JsonElement root, string reference)
    {
        if (reference == "#")
        {
            return root;
        }

        if (!reference.StartsWith("#/", StringComparison.Ordinal))
        {
            return null;
        }

        var current = root;
        foreach (var raw in reference[2..].Split('/'))
        {
            var token = Uri.UnescapeDataString(raw).Replace("~1", "/", StringComparison.Ordinal).Replace("~0", "~", StringComparison.Ordinal);
            if (current.ValueKind == JsonValueKind.Object && current.TryGetProperty(token, out var next))
            {
                current = next;
            }
            else if (current.ValueKind == JsonValueKind.Array && int.TryParse(token, out var index) && index >= 0 && index < current.GetArrayLength())
            {
                current = current[index];
            }
            else
            {
                return null;
            }
        }

        return current;
    }
}
