using LlmProxy.Hosting;
using LlmProxy.Streaming;

namespace LlmProxy.Providers;

/// <summary>A provider's event stream read through its translator: what comes out is OpenAI SSE.</summary>
internal sealed class TranslatedStreamContent : PassThroughContent
{
    private readonly IProviderTranslator _translator;
    private readonly LlmRequestFeature _feature;
    private readonly long _created;
    private readonly bool _usageChunk;

    /// <summary>
    /// Wraps <paramref name="inner"/>, whose events <paramref name="translator"/> turns into OpenAI's (with the usage
    /// chunk when <paramref name="usageChunk"/>: the client asked, or the meter reads it and the guard strips it).
    /// </summary>
    public TranslatedStreamContent(HttpContent inner, IProviderTranslator translator, LlmRequestFeature feature, long created, bool usageChunk)
        : base(inner)
    {
        _translator = translator;
        _feature = feature;
        _created = created;
        _usageChunk = usageChunk;
    }

    /// <inheritdoc/>
    protected override Stream Wrap(Stream providerBody) => _translator.TranslateStream(providerBody, _feature, _created, _usageChunk);
}
