using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using LlmProxy.Configuration;
using LlmProxy.Errors;
using LlmProxy.Hosting;
using LlmProxy.Routing;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Net.Http.Headers;

namespace LlmProxy.Providers;

/// <summary>
/// Stage 5 (after YARP load balancing): records the chosen target and hands YARP the body to send, as the target's
/// translator writes it (for OpenAI-shaped providers the client's body with the upstream model name); under <c>latency</c>
/// balancing, records how the attempt went (<see cref="TargetStats"/>).
/// </summary>
internal sealed class TargetMiddleware
{
    private readonly RequestDelegate _next;
    private readonly ConfigStore _store;
    private readonly TimeProvider _time;
    private readonly TargetStats _stats;

    public TargetMiddleware(RequestDelegate next, ConfigStore store, TimeProvider time, TargetStats stats)
    {
        _next = next;
        _store = store;
        _time = time;
        _stats = stats;
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
        var info = feature.Request;
        var translator = target.Provider.Translator;
        if (translator.RefuseOperation(feature.OperationPath) is { } refusal)
        {
            await RefuseAsync(context, feature, refusal, null);
            return;
        }

        // Streams report usage only when asked: ask on the client's behalf, and strip the extra chunk again.
        var addUsage = feature.Metered && info.Stream && info.StreamOptions == StreamOptions.Absent
            && target.Provider.InjectStreamUsage && feature.OperationPath is "/chat/completions" or "/completions";
        var body = translator.TranslateRequest(feature, target, addUsage);
        if (body.Error is { } error)
        {
            await RefuseAsync(context, feature, error, body.Param);
            return;
        }

        // Set for every attempt: the next one may go to a provider of another type.
        feature.StripUsageChunk = feature.Metered && info.Stream
            && (addUsage || (translator.StreamsReportUsage && info.StreamOptions != StreamOptions.IncludeUsage));

        var request = context.Request;
        try
        {
            request.Body = new MemoryStream(body.Bytes.Array!, body.Bytes.Offset, body.Bytes.Count, writable: false);
            request.ContentLength = body.Bytes.Count;
            if (feature.Metered && feature.UpstreamStart == 0)
            {
                // The first attempt's start: the upstream time of a retried request covers all its attempts.
                feature.UpstreamStart = _time.GetTimestamp();
            }

            request.Headers.Remove(HeaderNames.TransferEncoding);
            // Only a model balanced by latency over several targets measures its attempts.
            var measured = feature.Model is { TracksLatency: true };
            var started = measured ? _time.GetTimestamp() : 0;
            await _next(context);
            if (measured)
            {
                _stats.RecordAttempt(feature, target.DestinationId, started, context.Features.Get<Yarp.ReverseProxy.Forwarder.IForwarderErrorFeature>()?.Error ?? default);
            }
        }
        finally
        {
            if (body.Pooled && context.Features.Get<Yarp.ReverseProxy.Forwarder.IForwarderErrorFeature>() is null)
            {
                ArrayPool<byte>.Shared.Return(body.Bytes.Array!);
            }
        }
    }

    // This target cannot take the request (its provider lacks the operation or a parameter): a 400, unless the attempt
    // loop may try another target of the model first (a model served by providers of several types).
    private static Task RefuseAsync(HttpContext context, LlmRequestFeature feature, string message, string? param)
    {
        if (feature.HoldFailure)
        {
            feature.Failure = Failover.UpstreamFailure.Refused(message, param);
            return Task.CompletedTask;
        }

        return ErrorWriter.WriteAsync(context, LlmError.InvalidRequest, message, param);
    }

    // YARP applies a reload a moment after the store swaps snapshots, so the chosen destination may belong to
    // the snapshot before or after the request's own. Ids carry provider and address, so either match is safe.
    private bool TryFindTarget(LlmRequestFeature feature, string destinationId, [NotNullWhen(true)] out ModelTarget? target)
        => feature.Snapshot.Targets.TryGetValue(destinationId, out target)
            || _store.Current.Targets.TryGetValue(destinationId, out target);
}
