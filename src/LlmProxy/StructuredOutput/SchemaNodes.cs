using Json.Schema;

namespace LlmProxy.StructuredOutput;

/// <summary>
/// The nodes of a compiled schema that evaluation can reach from its root (subschemas and resolved references),
/// without entering the meta-schemas JsonSchema.Net ships: those are shared by every schema, already resolved and
/// checked, and never touched here.
/// </summary>
internal static class SchemaNodes
{
    /// <summary>Every reachable node of the schema's own resources, root first.</summary>
    public static List<JsonSchemaNode> Of(JsonSchema schema, SchemaRegistry registry)
    {
        var nodes = new List<JsonSchemaNode>();
        var seen = new HashSet<JsonSchemaNode>(ReferenceEqualityComparer.Instance);
        var pending = new Stack<JsonSchemaNode>();
        pending.Push(schema.Root);
        while (pending.TryPop(out var node))
        {
            if (!seen.Add(node) || IsShipped(node, registry))
            {
                continue;
            }

            nodes.Add(node);
            foreach (var keyword in node.Keywords)
            {
                foreach (var subschema in keyword.Subschemas)
                {
                    pending.Push(subschema);
                }
            }
        }

        return nodes;
    }

    /// <summary>Whether the node belongs to a meta-schema of the global registry (and not to a resource of the request's schema).</summary>
    public static bool IsShipped(JsonSchemaNode node, SchemaRegistry registry)
        => SchemaRegistry.Global.Get(node.BaseUri) is { } shipped && ReferenceEquals(shipped, registry.Get(node.BaseUri));
}
