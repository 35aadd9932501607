using System.Collections.Concurrent;
using System.IO.Hashing;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Json.Schema;

namespace LlmProxy.StructuredOutput;

/// <summary>
/// Compiles the JSON Schemas requests carry (JsonSchema.Net, draft 2020-12, format validation on) and keeps them by a
/// hash of their text, bounded. Their regexes are translated from ECMA-262 (<see cref="SchemaRewriter"/>) and get a
/// linear-time engine where it fits, else a match time limit (<see cref="SchemaRegexes"/>). A schema that cannot be used — bad JSON Schema, a regex .NET cannot
/// express, a <c>$ref</c> or <c>$dynamicRef</c> that does not resolve inside the schema or to a shipped meta-schema
/// (nothing is ever fetched), a reference loop that never moves into the value (<see cref="SchemaReferences"/>) — is
/// the client's error.
/// One instance per host, a DI singleton: it holds at most <see cref="MaxEntries"/> compiled schemas and starts again
/// empty when full.
/// </summary>
public sealed class SchemaCache
{
    /// <summary>Most compiled schemas kept; when full, the cache starts again empty (concurrent inserts may pass it by a few for a moment).</summary>
    public const int MaxEntries = 1000;

    /// <summary>Largest schema text kept; a larger one is compiled for its request only.</summary>
    public const int MaxCachedBytes = 64 * 1024;

    // Keyed by a hash of the text, which is not collision-resistant: a hit counts only when the text is the same, so a
    // request can never be checked against another tenant's schema.
    private readonly ConcurrentDictionary<(ulong Hash, int Length), (byte[] Text, JsonSchema Schema)> _compiled = new();

    /// <summary>Compiled schemas kept now.</summary>
    internal int Count => _compiled.Count;

    /// <summary>Compiles (or finds) a schema; returns null and why when it cannot be used.</summary>
    public JsonSchema? Get(ReadOnlySpan<byte> schemaJson, out string? error)
    {
        error = null;
        var key = (XxHash3.HashToUInt64(schemaJson), schemaJson.Length);
        if (_compiled.TryGetValue(key, out var cached) && schemaJson.SequenceEqual(cached.Text))
        {
            return cached.Schema;
        }

        var schema = Compile(Encoding.UTF8.GetString(schemaJson), out error);
        if (schema is null)
        {
            return null;
        }

        if (schemaJson.Length > MaxCachedBytes)
        {
            return schema;
        }

        if (_compiled.Count >= MaxEntries)
        {
            _compiled.Clear();
        }

        _compiled[key] = (schemaJson.ToArray(), schema);
        return schema;
    }

    private static JsonSchema? Compile(string text, out string? error)
    {
        error = null;
        try
        {
            using (var document = JsonDocument.Parse(text))
            {
                if (NumberRange.FirstUncheckable(document.RootElement) is { } number)
                {
                    error = $"the number {number}… is too large to check with (at most {NumberRange.MaxLength} characters and an exponent of ±{NumberRange.MaxExponent})";
                    return null;
                }

                if (SchemaRewriter.Rewrite(text, document.RootElement, out error) is not { } rewritten)
                {
                    return null;
                }

                text = rewritten;
            }

            // A registry of its own per schema (the global one rejects a repeated $id); it never fetches, and falls back to
            // the global one, which holds only the meta-schemas JsonSchema.Net ships.
            var registry = new SchemaRegistry { Fetch = static (_, _) => null };
            var schema = JsonSchema.FromText(text, new BuildOptions { Dialect = Dialect.Draft202012, SchemaRegistry = registry });
            var nodes = SchemaNodes.Of(schema, registry);
            error = SchemaReferences.FirstProblem(schema, nodes);
            if (error is not null)
            {
                return null;
            }

            SchemaRegexes.Apply(nodes);
            return schema;
        }
        catch (Exception ex) when (ex is JsonException or JsonSchemaException or RegexParseException or ArgumentException or RefResolutionException or UriFormatException)
        {
            error = ex.Message;
            return null;
        }
    }

    /// <summary>
    /// The element a local <c>$ref</c> (<c>#</c>, <c>#/$defs/name</c>, escaped tokens and array indexes) points at in
    /// <paramref name="root"/>, or null when it does not resolve there or leads into an embedded resource (a subschema
    /// with its own <c>$id</c>, where pointers mean something else).
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
                if (current.ValueKind == JsonValueKind.Object && current.TryGetProperty("$id", out _))
                {
                    return null;
                }
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
