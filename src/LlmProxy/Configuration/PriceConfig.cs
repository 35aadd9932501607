using System.Text.Json.Serialization;

namespace LlmProxy.Configuration;

/// <summary>USD prices per million tokens. Input and output prices are required: a missing price is not zero.</summary>
public sealed record PriceConfig
{
    /// <summary>Price of 1M input tokens (not cached).</summary>
    [JsonPropertyName("input_per_1m")]
    public decimal? InputPer1M { get; init; }

    /// <summary>Price of 1M output tokens (reasoning tokens included).</summary>
    [JsonPropertyName("output_per_1m")]
    public decimal? OutputPer1M { get; init; }

    /// <summary>Price of 1M cached input tokens; the input price when not given.</summary>
    [JsonPropertyName("cached_input_per_1m")]
    public decimal? CachedInputPer1M { get; init; }
}
