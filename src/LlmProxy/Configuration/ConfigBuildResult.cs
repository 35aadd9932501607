namespace LlmProxy.Configuration;

/// <summary>The outcome of loading a config: a snapshot, or every error found.</summary>
public sealed record ConfigBuildResult(GatewaySnapshot? Snapshot, IReadOnlyList<string> Errors, IReadOnlyList<string> Warnings)
{
    /// <summary>A failed load.</summary>
    public static ConfigBuildResult Failed(IReadOnlyList<string> errors) => new(null, errors, []);
}
