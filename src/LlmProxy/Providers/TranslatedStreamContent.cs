using LlmProxy.Routing;
using LlmProxy.Streaming;

namespace LlmProxy.Providers;

/// <summary>A provider's event stream read through its translator: what comes out is OpenAI SSE.</summary>
internal sealed class TranslatedStreamContent : PassThroughContent
{
    private readonly IProviderTranslator _translator;
    private readonly LlmRequestFeature _feature;
    private readonly long _created;

    /// <summary>Wraps <paramref name="inner"/>, whose events <paramref name="translator"/> turns into OpenAI's.</summary>
    public TranslatedStreamContent(HttpContent inner, IProviderTranslator translator, LlmRequestFeature feature, long created)
        : base(inner)
    {
        _translator = translator;
        _feature = feature;
        _created = created;
    }

    /// <inheritdoc/>
    protected override Stream Wrap(Stream providerBody) => _translator.TranslateStream(providerBody, _feature, _created);
}
