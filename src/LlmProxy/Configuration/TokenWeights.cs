namespace LlmProxy.Configuration;

/// <summary>Weights per token type (1 = a token counts as one).</summary>
public sealed record TokenWeights
{
    /// <summary>Weight of an uncached input token.</summary>
    public double Input { get; init; } = 1;

    /// <summary>Weight of a cached input token.</summary>
    public double CachedInput { get; init; } = 1;

    /// <summary>Weight of an output token (reasoning tokens included).</summary>
    public double Output { get; init; } = 1;
}
