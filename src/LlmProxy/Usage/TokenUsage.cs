namespace LlmProxy.Usage;

/// <summary>
/// Tokens of one request. <see cref="CachedInput"/> is part of <see cref="Input"/> and <see cref="Reasoning"/> part of
/// <see cref="Output"/>, as in OpenAI's usage block. <see cref="Estimated"/> is true when the provider sent no usage.
/// </summary>
public readonly record struct TokenUsage(long Input, long Output, long CachedInput, long Reasoning, bool Estimated)
{
    /// <summary>Input plus output.</summary>
    public long Total => Input + Output;

    /// <summary>This usage and <paramref name="other"/> together (estimated when either is).</summary>
    public TokenUsage Plus(TokenUsage other) => new(Input + other.Input, Output + other.Output, CachedInput + other.CachedInput,
        Reasoning + other.Reasoning, Estimated || other.Estimated);
}
