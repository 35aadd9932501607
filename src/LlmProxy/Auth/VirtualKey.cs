using System.Collections.Frozen;

namespace LlmProxy.Auth;

/// <summary>The caller behind a request: a virtual key's id, name and the models it may use.</summary>
public sealed class VirtualKey
{
    /// <summary>The principal used when the config sets <c>auth.mode: none</c>.</summary>
    public static readonly VirtualKey Anonymous = new("anonymous", "anonymous", [], allowsAllModels: true, FrozenSet<string>.Empty);

    /// <summary>Creates a key.</summary>
    public VirtualKey(string id, string name, byte[] hash, bool allowsAllModels, FrozenSet<string> allowedModels, string? team = null,
        Configuration.StructuredOutputSettings? structuredOutput = null)
    {
        StructuredOutput = structuredOutput;
        Id = id;
        Name = name;
        Team = team;
        Hash = hash;
        AllowsAllModels = allowsAllModels;
        AllowedModels = allowedModels;
    }

    /// <summary>Stable id, safe for logs and metric labels.</summary>
    public string Id { get; }

    /// <summary>Human-readable name.</summary>
    public string Name { get; }

    /// <summary>The key's team, if any (safe for logs and metric labels).</summary>
    public string? Team { get; }

    /// <summary>The key's structured-output settings, when it has its own (they take precedence over the model's).</summary>
    public Configuration.StructuredOutputSettings? StructuredOutput { get; }

    /// <summary>SHA-256 of the key.</summary>
    internal byte[] Hash { get; }

    /// <summary>True when the key may use every model.</summary>
    public bool AllowsAllModels { get; }

    /// <summary>Canonical names of the models the key may use.</summary>
    public FrozenSet<string> AllowedModels { get; }

    /// <summary>True when the key may use the model with this canonical name.</summary>
    public bool MayUse(string canonicalModel) => AllowsAllModels || AllowedModels.Contains(canonicalModel);
}
