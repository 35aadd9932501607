using LlmProxy.Configuration;
using LlmProxy.Hosting;

namespace LlmProxy.Providers;

/// <summary>
/// What differs between provider types in the bodies: the request the provider takes for an OpenAI request, and the
/// OpenAI shape of what it answers (JSON answers, stream events, errors). One per provider type, chosen when the config
/// is loaded (<see cref="ProviderRuntime.Translator"/>). OpenAI, Azure OpenAI, OpenAI-compatible servers and the
/// simulator speak OpenAI's shape: their translator is the identity and their answers pass through untouched. Every
/// stage after the provider call (metering, validation, the SSE guard) sees OpenAI-shaped data only.
/// </summary>
internal interface IProviderTranslator
{
    /// <summary>True when the provider speaks OpenAI's shape: answers are not translated (no copy, no re-serialization).</summary>
    bool IsIdentity { get; }

    /// <summary>True when the provider's translated streams always end with a usage chunk (the gateway strips it when the client did not ask).</summary>
    bool StreamsReportUsage { get; }

    /// <summary>Null when the provider can serve the OpenAI operation (for example <c>/chat/completions</c>), else why not (a 400).</summary>
    string? RefuseOperation(string operationPath);

    /// <summary>
    /// The body to send to <paramref name="target"/> for the request in <paramref name="feature"/>, with the upstream model
    /// name; <paramref name="addUsage"/> asks for <c>stream_options.include_usage</c> (identity translators only).
    /// </summary>
    ProviderRequestBody TranslateRequest(LlmRequestFeature feature, ModelTarget target, bool addUsage);

    /// <summary>
    /// A successful non-streamed answer in OpenAI's shape with its token usage, or null when the body is not an answer of
    /// this provider (or cannot be read).
    /// </summary>
    ProviderAnswer? TranslateResponse(ReadOnlySpan<byte> providerBody, LlmRequestFeature feature, long created);

    /// <summary>
    /// The provider's event stream as OpenAI SSE events (<c>chat.completion.chunk</c>s, the usage chunk when
    /// <paramref name="usageChunk"/>, <c>[DONE]</c>).
    /// </summary>
    Stream TranslateStream(Stream providerEvents, LlmRequestFeature feature, long created, bool usageChunk);

    /// <summary>A provider error as an OpenAI-shaped error with the status the client gets.</summary>
    ProviderError TranslateError(int status, ReadOnlySpan<byte> providerBody);
}
