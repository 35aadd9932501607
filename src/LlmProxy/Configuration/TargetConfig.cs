namespace LlmProxy.Configuration;

/// <summary>One way of serving a model.</summary>
public sealed record TargetConfig
{
    /// <summary>Name of a provider in <see cref="GatewayConfig.Providers"/>.</summary>
    public string Provider { get; init; } = "";

    /// <summary>The provider's model (Azure: deployment) name; defaults to the public name.</summary>
    public string? Model { get; init; }

    /// <summary>Relative share of traffic; 0 takes the target out of rotation.</summary>
    public int Weight { get; init; } = 1;

    /// <summary>
    /// Tier: lower is preferred (default 0). A target of a higher tier is used only while no target of a better tier is
    /// available (all of those failed in this request, cool down, or are out of rotation).
    /// </summary>
    public int Priority { get; init; }

    /// <summary>Overrides the pricing table for this target.</summary>
    public PriceConfig? Pricing { get; init; }
}
