using LlmProxy.Hosting;
using Yarp.ReverseProxy.Forwarder;
using Yarp.ReverseProxy.Transforms;

namespace LlmProxy.Providers;

/// <summary>
/// Outgoing request. YARP copies no client header (the transform builder turns that off): a provider gets only the
/// headers on <see cref="ForwardedHeaders"/> that the client sent (and did not name in <c>Connection</c>), the body's
/// type and length, the gateway's user agent, the provider's own credential, and the provider's own path and query —
/// never the client's query string.
/// </summary>
internal sealed class ProviderRequestTransform : RequestTransform
{
    /// <summary>
    /// The client headers a provider may see. Everything else stays with the gateway: credentials and account selectors
    /// (Authorization, api-key, OpenAI-Organization/-Project), cookies, forwarding headers (X-Forwarded-*, Forwarded,
    /// Via, X-Real-IP: the client's address is not a provider's business), the gateway's x-llmproxy-* controls and SDK
    /// telemetry. Accept-Encoding is not forwarded: the gateway reads every answer, so providers answer uncompressed.
    /// </summary>
    internal static readonly string[] ForwardedHeaders = ["Accept", OpenAIBeta, "traceparent", "tracestate"];

    private const string OpenAIBeta = "OpenAI-Beta";

    private const string UserAgent = "LlmProxy";

    /// <inheritdoc/>
    public override ValueTask ApplyAsync(RequestTransformContext context)
    {
        var request = context.HttpContext.Request;
        var proxyRequest = context.ProxyRequest;
        var incoming = request.Headers;
        var connection = incoming.Connection;
        var feature = context.HttpContext.Features.Get<LlmRequestFeature>();
        var openAIShaped = feature?.Target?.Provider.Translator.IsIdentity ?? true;
        foreach (var name in ForwardedHeaders)
        {
            if (!openAIShaped && ReferenceEquals(name, OpenAIBeta))
            {
                // OpenAI's feature flags mean nothing to a provider with another API.
                continue;
            }

            var value = incoming[name];
            if (value.Count > 0 && (connection.Count == 0 || !HopByHop.IsNamed(connection, name)))
            {
                if (value.Count == 1)
                {
                    proxyRequest.Headers.TryAddWithoutValidation(name, value[0]);
                }
                else
                {
                    proxyRequest.Headers.TryAddWithoutValidation(name, (IEnumerable<string?>)value);
                }
            }
        }

        proxyRequest.Headers.TryAddWithoutValidation("User-Agent", UserAgent);
        if (proxyRequest.Content is { } content)
        {
            // The body is the gateway's buffered copy (see TargetMiddleware): JSON, of a known length.
            content.Headers.TryAddWithoutValidation("Content-Type", "application/json");
            content.Headers.ContentLength = request.ContentLength;
        }

        if (feature?.Target is { } target)
        {
            var adapter = target.Provider.Adapter;
            var path = adapter.PathOf(target, feature.OperationPath);
            proxyRequest.RequestUri = RequestUtilities.MakeDestinationAddress(context.DestinationPrefix, path.Path, path.Query);
            adapter.AddCredential(proxyRequest.Headers, target.Provider);
        }
        else
        {
            proxyRequest.RequestUri = RequestUtilities.MakeDestinationAddress(context.DestinationPrefix, context.Path, QueryString.Empty);
        }

        return default;
    }
}
