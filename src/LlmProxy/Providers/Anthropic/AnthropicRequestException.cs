namespace LlmProxy.Providers.Anthropic;

/// <summary>
/// A request that cannot be translated. Thrown only inside the request translator and caught by
/// <see cref="AnthropicRequest.Translate"/>, which turns it into an error result: it never reaches a caller.
/// </summary>
internal sealed class AnthropicRequestException : Exception
{
    /// <summary>Creates the exception with a client-facing message and the offending field.</summary>
    public AnthropicRequestException(string message, string? param)
        : base(message)
    {
        Param = param;
    }

    /// <summary>The offending field, as OpenAI's <c>param</c> spells it (e.g. <c>messages[2].content[0]</c>).</summary>
    public string? Param { get; }
}
