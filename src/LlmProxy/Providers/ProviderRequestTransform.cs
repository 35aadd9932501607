using LlmProxy.Routing;
using Yarp.ReverseProxy.Transforms;

namespace LlmProxy.Providers;

/// <summary>
/// Outgoing request: drops the client's credentials and the headers named in its <c>Connection</c> header,
/// then lets the target's provider adapter set path, query and the provider's own credential.
/// </summary>
internal sealed class ProviderRequestTransform : RequestTransform
{
    // Client credentials and account selectors must never reach a provider. Expect: the body is already
    // buffered, so waiting for 100-continue would only add a round trip. Accept-Encoding: the gateway reads
    // usage from every answer, so providers must answer uncompressed (YARP does not decompress).
    private static readonly string[] ClientOnlyHeaders =
        ["Authorization", "api-key", "x-api-key", "OpenAI-Organization", "OpenAI-Project", "Cookie", "Proxy-Authorization", "Expect", "Accept-Encoding"];

    /// <inheritdoc/>
    public override ValueTask ApplyAsync(RequestTransformContext context)
    {
        var incoming = context.HttpContext.Request.Headers;
        foreach (var header in ClientOnlyHeaders)
        {
            // Checking the incoming headers first is cheap (Kestrel knows most by flag) and skips the outgoing lookups.
            if (incoming.ContainsKey(header))
            {
                RemoveHeader(context, header);
            }
        }

        var connection = incoming.Connection;
        if (connection.Count > 0)
        {
            RemoveConnectionListed(context, connection);
        }

        var feature = context.HttpContext.Features.Get<LlmRequestFeature>();
        if (feature?.Target is { } target)
        {
            target.Provider.Adapter.ApplyRequest(context, target, feature.OperationPath);
        }

        return default;
    }

    private static void RemoveConnectionListed(RequestTransformContext context, Microsoft.Extensions.Primitives.StringValues connection)
    {
        foreach (var value in connection)
        {
            // The common values name no header: skip the split.
            if (value is null || value.Equals("keep-alive", StringComparison.OrdinalIgnoreCase) || value.Equals("close", StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }

            foreach (var name in value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                RemoveHeader(context, name);
            }
        }
    }
}
