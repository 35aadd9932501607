using LlmProxy.Routing;
using LlmProxy.Streaming;
using Yarp.ReverseProxy.Transforms;

namespace LlmProxy.Providers;

/// <summary>
/// Incoming response: drops headers that identify the provider account or are named in the provider's
/// <c>Connection</c> header, and hands error responses to <see cref="UpstreamErrorRewriter"/>.
/// </summary>
internal sealed class ProviderResponseTransform : ResponseTransform
{
    private static readonly string[] AccountHeaders = ["openai-organization", "openai-project", "Set-Cookie"];

    /// <inheritdoc/>
    public override async ValueTask ApplyAsync(ResponseTransformContext context)
    {
        var proxyResponse = context.ProxyResponse;
        if (proxyResponse is null)
        {
            return;
        }

        var headers = context.HttpContext.Response.Headers;
        foreach (var name in AccountHeaders)
        {
            headers.Remove(name);
        }

        if (proxyResponse.Headers.NonValidated.TryGetValues("Connection", out var connection))
        {
            foreach (var value in connection)
            {
                // The common values name no header: skip the split.
                if (value.Equals("keep-alive", StringComparison.OrdinalIgnoreCase) || value.Equals("close", StringComparison.OrdinalIgnoreCase))
                {
                    continue;
                }

                foreach (var name in value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                {
                    headers.Remove(name);
                }
            }
        }

        var status = (int)proxyResponse.StatusCode;
        if (status >= 400 && context.HttpContext.Features.Get<LlmRequestFeature>()?.Target is { } target)
        {
            await UpstreamErrorRewriter.RewriteAsync(context, target);
        }
        else if (status < 300 && proxyResponse.Content.Headers.ContentType?.MediaType == "text/event-stream")
        {
            proxyResponse.Content = new EventStreamGuard(proxyResponse.Content, context.HttpContext);
        }
    }
}
