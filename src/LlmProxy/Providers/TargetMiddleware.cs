using System.Buffers;
using LlmProxy.Routing;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Net.Http.Headers;

namespace LlmProxy.Providers;

/// <summary>
/// Stage 5 (after YARP load balancing): records the chosen target and hands YARP the body to send, with the
/// public model name replaced by the target's upstream model name.
/// </summary>
internal sealed class TargetMiddleware
{
    private readonly RequestDelegate _next;

    public TargetMiddleware(RequestDelegate next) => _next = next;

    public async Task Invoke(HttpContext context)
    {
        var feature = context.Features.GetRequiredFeature<LlmRequestFeature>();
        var destinations = context.GetReverseProxyFeature().AvailableDestinations;
        if (destinations.Count == 0 || !feature.Snapshot.Targets.TryGetValue(destinations[0].DestinationId, out var target))
        {
            await _next(context);
            return;
        }

        feature.Target = target;
        var body = feature.Body;
        var info = feature.Request;
        byte[]? rewritten = null;
        var request = context.Request;
        try
        {
            if (body.AsSpan(info.ModelTokenStart, info.ModelTokenLength).SequenceEqual(target.UpstreamModelJson))
            {
                request.Body = new MemoryStream(body.Array!, body.Offset, body.Count, writable: false);
                request.ContentLength = body.Count;
            }
            else
            {
                var length = body.Count - info.ModelTokenLength + target.UpstreamModelJson.Length;
                rewritten = ArrayPool<byte>.Shared.Rent(length);
                var span = rewritten.AsSpan();
                body.AsSpan(0, info.ModelTokenStart).CopyTo(span);
                target.UpstreamModelJson.CopyTo(span[info.ModelTokenStart..]);
                body.AsSpan(info.ModelTokenStart + info.ModelTokenLength).CopyTo(span[(info.ModelTokenStart + target.UpstreamModelJson.Length)..]);
                request.Body = new MemoryStream(rewritten, 0, length, writable: false);
                request.ContentLength = length;
            }

            request.Headers.Remove(HeaderNames.TransferEncoding);
            await _next(context);
        }
        finally
        {
            if (rewritten is not null && context.Features.Get<Yarp.ReverseProxy.Forwarder.IForwarderErrorFeature>() is null)
            {
                ArrayPool<byte>.Shared.Return(rewritten);
            }
        }
    }
}
