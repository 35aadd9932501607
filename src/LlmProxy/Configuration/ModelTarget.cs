using System.Text;
using System.Text.Json;

namespace LlmProxy.Configuration;

/// <summary>One target of a model: a provider, the upstream model name and a weight. Maps to one YARP destination.</summary>
public sealed class ModelTarget
{
    /// <summary>Creates a target and pre-encodes the upstream model name for body rewriting.</summary>
    public ModelTarget(string destinationId, ProviderRuntime provider, string upstreamModel, int weight, PriceConfig? price = null)
    {
        Price = price;
        DestinationId = destinationId;
        Provider = provider;
        UpstreamModel = upstreamModel;
        Weight = weight;
        UpstreamModelJson = Encoding.UTF8.GetBytes(JsonSerializer.Serialize(upstreamModel));
    }

    /// <summary>The YARP destination id, unique across the config.</summary>
    public string DestinationId { get; }

    /// <summary>The provider serving this target.</summary>
    public ProviderRuntime Provider { get; }

    /// <summary>The provider's model (or Azure deployment) name.</summary>
    public string UpstreamModel { get; }

    /// <summary><see cref="UpstreamModel"/> as a JSON string literal in UTF-8, quotes included.</summary>
    public byte[] UpstreamModelJson { get; }

    /// <summary>Relative share of traffic.</summary>
    public int Weight { get; }

    /// <summary>Tier: lower is preferred; a higher one is used only while no target of a better tier is available.</summary>
    public int Priority { get; init; }

    /// <summary>Anthropic: <c>max_tokens</c> sent when the client gives none (the model's setting, else the provider's).</summary>
    public int? DefaultMaxTokens { get; init; }

    /// <summary>USD prices for this target, or null when unknown (cost is then reported as unknown, not zero).</summary>
    public PriceConfig? Price { get; }
}
