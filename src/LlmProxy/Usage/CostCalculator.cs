using LlmProxy.Configuration;

namespace LlmProxy.Usage;

/// <summary>USD cost of a request from its usage and the target's price.</summary>
public static class CostCalculator
{
    private const decimal Million = 1_000_000m;

    /// <summary>
    /// Uncached input at the input price, cached input at the cached price (the input price when none is set),
    /// output (reasoning included) at the output price. Null when the price is unknown: unknown, not zero.
    /// </summary>
    public static decimal? Compute(TokenUsage usage, PriceConfig? price)
    {
        if (price?.InputPer1M is not { } input || price.OutputPer1M is not { } output)
        {
            return null;
        }

        var cached = Math.Min(usage.CachedInput, usage.Input);
        return (((usage.Input - cached) * input)
            + (cached * (price.CachedInputPer1M ?? input))
            + (usage.Output * output)) / Million;
    }
}
