using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using LlmProxy.Configuration;
using LlmProxy.Errors;
using LlmProxy.Routing;
using LlmProxy.Telemetry;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Net.Http.Headers;

namespace LlmProxy.Providers;

/// <summary>
/// Stage 5 (after YARP load balancing): records the chosen target and hands YARP the body to send, with the
/// public model name replaced by the target's upstream model name.
/// </summary>
internal sealed class TargetMiddleware
{
    private static readonly byte[] IncludeUsage = ""","stream_options":{"include_usage":true}"""u8.ToArray();

    private readonly RequestDelegate _next;
    private readonly ConfigStore _store;
    private readonly TimeProvider _time;

    public TargetMiddleware(RequestDelegate next, ConfigStore store, TimeProvider time)
    {
        _next = next;
        _store = store;
        _time = time;
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
        var meter = context.Features.Get<RequestMeter>();

        // Streams report usage only when asked: ask on the client's behalf, and strip the extra chunk again.
        var addUsage = meter is not null && info.Stream && info.StreamOptions == StreamOptions.Absent
            && target.Provider.InjectStreamUsage && feature.OperationPath is "/chat/completions" or "/completions";
        byte[]? rewritten = null;
        var request = context.Request;
        try
        {
            var sameModel = body.AsSpan(info.ModelTokenStart, info.ModelTokenLength).SequenceEqual(target.UpstreamModelJson);
            if (sameModel && !addUsage)
            {
                request.Body = new MemoryStream(body.Array!, body.Offset, body.Count, writable: false);
                request.ContentLength = body.Count;
            }
            else
            {
                var model = sameModel ? body.AsSpan(info.ModelTokenStart, info.ModelTokenLength) : target.UpstreamModelJson;
                var insertion = addUsage ? IncludeUsage : [];
                var length = body.Count - info.ModelTokenLength + model.Length + insertion.Length;
                rewritten = ArrayPool<byte>.Shared.Rent(length);
                Splice(body, info, model, insertion, rewritten);
                request.Body = new MemoryStream(rewritten, 0, length, writable: false);
                request.ContentLength = length;
                if (addUsage)
                {
                    meter!.StripUsageChunk = true;
                }
            }

            if (meter is not null && meter.UpstreamStart == 0)
            {
                // The first attempt's start: the upstream time of a retried request covers all its attempts.
                meter.UpstreamStart = _time.GetTimestamp();
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

    // body[..model] + model + body[model end..root end] + insertion + body[root end..]
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

    // YARP applies a reload a moment after the store swaps snapshots, so the chosen destination may belong to
    // the snapshot before or after the request's own. Ids carry provider and address, so either match is safe.
    private bool TryFindTarget(LlmRequestFeature feature, string destinationId, [NotNullWhen(true)] out ModelTarget? target)
        => feature.Snapshot.Targets.TryGetValue(destinationId, out target)
            || _store.Current.Targets.TryGetValue(destinationId, out target);
}
