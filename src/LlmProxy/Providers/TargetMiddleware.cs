using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using LlmProxy.Configuration;
using LlmProxy.Errors;
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
    private readonly ConfigStore _store;

    public TargetMiddleware(RequestDelegate next, ConfigStore store)
    {
        _next = next;
        _store = store;
    }

    public async Task Invoke(HttpContext context)
    {
        var feature = context.Features.GetRequiredFeature<LlmRequestFeature>();
        var destinations = context.GetReverseProxyFeature().AvailableDestinations;
        if (destinations.Count == 0 || !TryFindTarget(feature, destinations[0].DestinationId, out var target))
        {
            await ErrorWriter.WriteAsync(context, LlmError.NoAvailableTarget, "No target of this model is available; retry shortly.");
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

    // YARP applies a reload a moment after the store swaps snapshots, so the chosen destination may belong to
    // the snapshot before or after the request's own. Ids carry provider and address, so either match is safe.
    private bool TryFindTarget(LlmRequestFeature feature, string destinationId, [NotNullWhen(true)] out ModelTarget? target)
        => feature.Snapshot.Targets.TryGetValue(destinationId, out target)
            || _store.Current.Targets.TryGetValue(destinationId, out target);
}
