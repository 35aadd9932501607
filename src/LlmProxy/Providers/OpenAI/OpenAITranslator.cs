using System.Buffers;
using LlmProxy.Configuration;
using LlmProxy.Hosting;
using LlmProxy.Routing;

namespace LlmProxy.Providers.OpenAI;

/// <summary>
/// The identity translator of every provider that speaks OpenAI's API (OpenAI, Azure OpenAI, OpenAI-compatible servers,
/// the simulator): the client's body goes out with the upstream model name spliced in (and <c>stream_options</c> added
/// when the gateway asks for usage), and the answers pass through untouched.
/// </summary>
internal sealed class OpenAITranslator : IProviderTranslator
{
    private static readonly byte[] IncludeUsage = ""","stream_options":{"include_usage":true}"""u8.ToArray();

    /// <inheritdoc/>
    public bool IsIdentity => true;

    /// <inheritdoc/>
    public bool StreamsReportUsage => false;

    /// <inheritdoc/>
    public string? RefuseOperation(string operationPath) => null;

    /// <inheritdoc/>
    public ProviderRequestBody TranslateRequest(LlmRequestFeature feature, ModelTarget target, bool addUsage)
    {
        var body = feature.Body;
        var info = feature.Request;
        var sameModel = body.AsSpan(info.ModelTokenStart, info.ModelTokenLength).SequenceEqual(target.UpstreamModelJson);
        if (sameModel && !addUsage)
        {
            return new ProviderRequestBody(body, Pooled: false);
        }

        var model = sameModel ? body.AsSpan(info.ModelTokenStart, info.ModelTokenLength) : target.UpstreamModelJson;
        var insertion = addUsage ? IncludeUsage : [];
        var length = body.Count - info.ModelTokenLength + model.Length + insertion.Length;
        var rewritten = ArrayPool<byte>.Shared.Rent(length);
        Splice(body, info, model, insertion, rewritten);
        return new ProviderRequestBody(new ArraySegment<byte>(rewritten, 0, length), Pooled: true);
    }

    /// <inheritdoc/>
    public ProviderAnswer? TranslateResponse(ReadOnlySpan<byte> providerBody, LlmRequestFeature feature, long created) => new ProviderAnswer(providerBody.ToArray(), null);

    /// <inheritdoc/>
    public Stream TranslateStream(Stream providerEvents, LlmRequestFeature feature, long created, bool usageChunk) => providerEvents;

    /// <inheritdoc/>
    public ProviderError TranslateError(int status, ReadOnlySpan<byte> providerBody) => new(status, providerBody.ToArray(), null);

    /// <summary>Writes <c>body[..model] + model + body[model end..root end] + insertion + body[root end..]</c>.</summary>
    internal static void Splice(ArraySegment<byte> body, LlmRequestInfo info, ReadOnlySpan<byte> model, ReadOnlySpan<byte> insertion, Span<byte> destination)
    {
        var source = body.AsSpan();
        var modelEnd = info.ModelTokenStart + info.ModelTokenLength;
        source[..info.ModelTokenStart].CopyTo(destination);
        var at = info.ModelTokenStart;
        model.CopyTo(destination[at..]);
        at += model.Length;
        source[modelEnd..info.RootEnd].CopyTo(destination[at..]);
        at += info.RootEnd - modelEnd;
        insertion.CopyTo(destination[at..]);
        at += insertion.Length;
        source[info.RootEnd..].CopyTo(destination[at..]);
    }
}
