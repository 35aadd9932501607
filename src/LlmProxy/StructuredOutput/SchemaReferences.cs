using System.Collections.Frozen;
using Json.Schema;
using Json.Schema.Keywords;
using Json.Schema.Keywords.Draft201909;

namespace LlmProxy.StructuredOutput;

/// <summary>
/// Checks, once a schema is compiled, what would otherwise only fail while an answer is validated (after the provider
/// was called and billed): every <c>$ref</c> and <c>$dynamicRef</c> must have been resolved by JsonSchema.Net against
/// the schema's own resources (<c>$id</c>, <c>$anchor</c>, <c>$dynamicAnchor</c>, JSON Pointers) or the draft 2020-12
/// meta-schemas it ships — nothing is fetched — and no reference may loop back to the same value without descending
/// into it (evaluation would recurse until the process dies).
/// </summary>
internal static class SchemaReferences
{
    // Keywords that apply their subschemas to the same value; every other applicator moves into a child value.
    private static readonly FrozenSet<string> InPlace = new[]
    {
        "allOf", "anyOf", "oneOf", "not", "if", "then", "else", "dependentSchemas", "dependencies", "$ref", "$dynamicRef", "$recursiveRef",
    }.ToFrozenSet(StringComparer.Ordinal);

    /// <summary>The first problem found, or null when the schema can be evaluated safely.</summary>
    public static string? FirstProblem(JsonSchema schema, List<JsonSchemaNode> nodes)
    {
        var dynamicAnchors = new List<(Uri Resource, string Name, JsonSchemaNode Node)>();
        foreach (var node in nodes)
        {
            foreach (var keyword in node.Keywords)
            {
                if (keyword.Handler is DynamicAnchorKeyword && keyword.Value is string name)
                {
                    dynamicAnchors.Add((node.BaseUri, name, node));
                }
                else if (keyword.Handler is RecursiveAnchorKeyword && keyword.Value is true)
                {
                    // $recursiveRef (draft 2019-09) is "#" with a nameless dynamic anchor.
                    dynamicAnchors.Add((node.BaseUri, "", node));
                }
            }
        }

        foreach (var node in nodes)
        {
            foreach (var keyword in node.Keywords)
            {
                if (Unresolved(schema, node, keyword, dynamicAnchors) is { } problem)
                {
                    return problem;
                }
            }
        }

        return FirstLoop(nodes, dynamicAnchors);
    }

    private static string? Unresolved(JsonSchema schema, JsonSchemaNode node, KeywordData keyword, List<(Uri Resource, string Name, JsonSchemaNode Node)> dynamicAnchors)
    {
        if (keyword.Subschemas.Length > 0 || (keyword.Handler is RecursiveRefKeyword && keyword.Value is null))
        {
            return null;
        }

        if (keyword.Handler is RefKeyword)
        {
            return $"$ref '{keyword.RawValue.GetString()}' does not resolve inside the schema or to a draft 2020-12 meta-schema (nothing is fetched)";
        }

        if (keyword.Handler is not Json.Schema.Keywords.DynamicRefKeyword)
        {
            return null;
        }

        // Left unresolved by JsonSchema.Net: either dynamic (its target has a $dynamicAnchor of that name, found in the
        // dynamic scope while evaluating) or not found. JsonSchema.Net only finds it while evaluating if the target's
        // resource is in the dynamic scope, which is certain for the reference's own resource and the root.
        var raw = keyword.RawValue.GetString()!;
        var target = Uri.TryCreate(node.BaseUri, raw, out var resolved) ? resolved : null;
        var anchor = target is null ? "" : Uri.UnescapeDataString(target.Fragment.TrimStart('#'));
        foreach (var (resource, name, _) in dynamicAnchors)
        {
            if (name == anchor && resource == target && (resource == node.BaseUri || resource == schema.BaseUri))
            {
                return null;
            }
        }

        return $"$dynamicRef '{raw}' does not resolve to a $dynamicAnchor of its own schema resource or the root, or to any schema inside the schema (nothing is fetched)";
    }

    // Depth-first over the edges that stay on the same value; a node met again while still on the path is a loop.
    private static string? FirstLoop(List<JsonSchemaNode> nodes, List<(Uri Resource, string Name, JsonSchemaNode Node)> dynamicAnchors)
    {
        var own = new HashSet<JsonSchemaNode>(nodes, ReferenceEqualityComparer.Instance);
        var state = new Dictionary<JsonSchemaNode, bool>(ReferenceEqualityComparer.Instance);
        var path = new Stack<(JsonSchemaNode Node, IEnumerator<(JsonSchemaNode Next, string Via)> Edges)>();
        foreach (var start in nodes)
        {
            if (state.ContainsKey(start))
            {
                continue;
            }

            state[start] = true;
            path.Push((start, Edges(start, dynamicAnchors).GetEnumerator()));
            while (path.TryPeek(out var top))
            {
                if (!top.Edges.MoveNext())
                {
                    state[top.Node] = false;
                    path.Pop();
                    continue;
                }

                var (next, via) = top.Edges.Current;
                if (!own.Contains(next))
                {
                    continue;
                }

                if (state.TryGetValue(next, out var onPath))
                {
                    if (onPath)
                    {
                        return $"the schema refers back to itself through '{via}' without moving into a property or item (it would never end)";
                    }

                    continue;
                }

                state[next] = true;
                path.Push((next, Edges(next, dynamicAnchors).GetEnumerator()));
            }
        }

        return null;
    }

    private static IEnumerable<(JsonSchemaNode Next, string Via)> Edges(JsonSchemaNode node, List<(Uri Resource, string Name, JsonSchemaNode Node)> dynamicAnchors)
    {
        foreach (var keyword in node.Keywords)
        {
            if (!InPlace.Contains(keyword.Handler.Name))
            {
                continue;
            }

            var via = keyword.Handler.Name + (keyword.RawValue.ValueKind == System.Text.Json.JsonValueKind.String ? $" '{keyword.RawValue.GetString()}'" : "");
            foreach (var subschema in keyword.Subschemas)
            {
                yield return (subschema, via);
            }

            // A dynamic reference may land on any $dynamicAnchor of its name.
            if (keyword.Subschemas.Length == 0 && keyword.Handler is Json.Schema.Keywords.DynamicRefKeyword or RecursiveRefKeyword && keyword.RawValue.GetString() is { } raw)
            {
                var name = raw[(raw.IndexOf('#', StringComparison.Ordinal) + 1)..];
                foreach (var anchor in dynamicAnchors)
                {
                    if (anchor.Name == name)
                    {
                        yield return (anchor.Node, via);
                    }
                }
            }
        }
    }
}
