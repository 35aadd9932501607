using System.Text.Json.Serialization;

namespace LlmProxy.Configuration;

/// <summary>The pricing table file: prices by <c>provider/model</c> or by <c>model</c>.</summary>
public sealed record PricingConfig
{
    /// <summary>Editor hint; ignored by the gateway.</summary>
    [JsonPropertyName("$schema")]
    public string? Schema { get; init; }

    /// <summary>Prices keyed by <c>provider/model</c> (most specific) or by the provider's model name.</summary>
    public Dictionary<string, PriceConfig> Models { get; init; } = [];
}
