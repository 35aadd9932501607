namespace LlmProxy.Configuration;

/// <summary>A virtual key a client presents, stored as a hash.</summary>
public sealed record VirtualKeyConfig
{
    /// <summary>Stable id, safe to log and to use as a metric label.</summary>
    public string Id { get; init; } = "";

    /// <summary>Human-readable name.</summary>
    public string? Name { get; init; }

    /// <summary>The team the key belongs to (a metric label and log field).</summary>
    public string? Team { get; init; }

    /// <summary><c>sha256:</c> followed by the hex SHA-256 of the key.</summary>
    public string Hash { get; init; } = "";

    /// <summary>Public model names (or aliases) the key may use; <c>*</c> allows all.</summary>
    public List<string> Models { get; init; } = [];

    /// <summary>Limits of this key across all models.</summary>
    public LimitsConfig? Limits { get; init; }

    /// <summary>Limits of this key on one model, by public model name.</summary>
    public Dictionary<string, LimitsConfig> ModelLimits { get; init; } = [];

    /// <summary>Validation of answers for this key (takes precedence over the model's).</summary>
    public StructuredOutputSettings? StructuredOutput { get; init; }
}
