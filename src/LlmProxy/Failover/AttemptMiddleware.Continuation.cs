using LlmProxy.Configuration;
using LlmProxy.Hosting;
using LlmProxy.Routing;
using LlmProxy.Streaming;
using Microsoft.AspNetCore.Http.Features;
using Yarp.ReverseProxy.Forwarder;
using Yarp.ReverseProxy.Model;

namespace LlmProxy.Failover;

/// <summary>The attempt loop's continuation of streams cut mid-answer.</summary>
internal sealed partial class AttemptMiddleware
{
    // A stream whose provider failed after part of the answer reached the client (the guard held its error event back).
    // The next target that can continue it — the model's other targets, then its fallbacks — gets the conversation plus
    // what was delivered as a final assistant message where its provider continues one (a prefill), else the request as
    // it was (a restart, spliced only where it repeats exactly what was delivered). Only the continuation reaches the
    // client, as chunks of the answer it already has. A target that refuses the prefill is asked again for a restart.
    // When no target is left (or the deadline passed) the stream ends with the error event, without [DONE].
    private async Task ContinueAsync(HttpContext context, LlmRequestFeature feature, AttemptRun run)
    {
        var transcript = feature.Transcript!;
        var cut = feature.StreamCut!.Value;
        var clientResponse = context.Features.Get<IHttpResponseFeature>()!;
        var clientBody = context.Features.Get<IHttpResponseBodyFeature>()!;
        var modelName = run.Primary.Name;
        if (feature.Target is { } first)
        {
            run.Tried.Add(first.DestinationId);
        }

        // Targets that refused the prefill: asked once more, for a restart.
        var refusedPrefill = new HashSet<string>(StringComparer.Ordinal);
        // The attempt whose answer the client has so far: its status and target are the record's when a continuation fails.
        var answeredStatus = feature.UpstreamStatus;
        var answeredTarget = feature.Target;
        var charge = true;
        while (!transcript.Unsupported && !run.ClientAborted.IsCancellationRequested && Remaining(run) > TimeSpan.Zero
            && NextContinuationTarget(context, feature, run) is { } next)
        {
            var (target, destination) = next;
            var prefill = target.Provider.Prefill && !refusedPrefill.Contains(target.DestinationId) && transcript.Text.Length > 0;
            byte[] trimmed = [];
            var body = run.ClientBody;
            if (prefill && ContinuationBody.Prefill(run.ClientBody, transcript.Text, out trimmed) is { } continued)
            {
                body = continued;
            }
            else
            {
                prefill = false;
            }

            if (LlmRequestParser.TryParse(body, out var info) != LlmRequestParser.Failure.None)
            {
                break;
            }

            feature.ContinueAttempt(charge);
            feature.Body = body;
            feature.Request = info;
            var splicer = new StreamSplicer(clientBody.Stream, transcript, restart: !prefill, trimmed);
            var response = new ContinuationResponse(clientResponse, splicer);
            context.Features.Set<IHttpResponseFeature>(response);
            context.Features.Set<IHttpResponseBodyFeature>(response);
            context.Features.Set<IForwarderErrorFeature>(null);
            context.GetReverseProxyFeature().AvailableDestinations = [destination];
            transcript.Recording = false;
            feature.HoldFailure = true;
            var attemptStart = _time.GetTimestamp();
            try
            {
                await AttemptAsync(context, feature, run);
            }
            finally
            {
                context.Features.Set(clientResponse);
                context.Features.Set(clientBody);
                transcript.Recording = true;
            }

            var mode = prefill ? "prefill" : "restart";
            _metrics.Attempt(feature.Model!.Name, target.Provider.Name, splicer.Ended ? "continued" : "continuation_failed", feature.UpstreamStatus,
                _time.GetElapsedTime(attemptStart).TotalSeconds);
            ReportContinuationHealth(feature, target, run, splicer.Ended || splicer.Diverged);
            if (splicer.Diverged || splicer.Ended)
            {
                Log.ContinuationEnded(_logger, feature.RequestId, modelName, mode, splicer.Diverged ? "diverged: ended with an error event" : "continued on " + target.Provider.Name);
                _metrics.StreamContinuation(modelName, splicer.Diverged ? "diverged" : mode);
                Finish(context, feature);
                return;
            }

            if (splicer.Passed)
            {
                // Part of the continuation reached the client before it failed too: continue from there.
                cut = feature.StreamCut ?? StreamEnd.Truncated;
                answeredStatus = feature.UpstreamStatus;
                answeredTarget = feature.Target;
                charge = true;
                run.Tried.Add(target.DestinationId);
                continue;
            }

            // Nothing of it reached the client: it is not charged, and the record keeps the attempt that answered.
            var refused = prefill && feature.Failure is { ProviderStatus: 400 };
            feature.DiscardAttempt(answeredStatus, answeredTarget);
            charge = false;
            if (refused && refusedPrefill.Add(target.DestinationId))
            {
                // The target refuses the prefill: the error must not be what the client sees; it is asked once more, for a restart.
                continue;
            }

            run.Tried.Add(target.DestinationId);
        }

        Log.ContinuationEnded(_logger, feature.RequestId, modelName, "-", "no target could continue: ended with an error event");
        _metrics.StreamContinuation(modelName, "failed");
        feature.StreamFailure = cut switch
        {
            StreamEnd.TimedOut => Telemetry.ErrorCategory.UpstreamTimeout,
            StreamEnd.Truncated => Telemetry.ErrorCategory.UpstreamError,
            _ => Telemetry.ErrorCategory.UpstreamUnreachable,
        };
        Finish(context, feature);
        try
        {
            await clientBody.Stream.WriteAsync(SseFrames.ProviderFailure(cut, endOpenEvent: false), CancellationToken.None);
            await clientBody.Stream.FlushAsync(CancellationToken.None);
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException or ObjectDisposedException)
        {
            // The client is gone too.
        }
    }

    // The next target that may continue the answer: the current model's untried ones (in rotation), then the
    // fallbacks' (moving the request to the fallback's cluster).
    private (ModelTarget Target, DestinationState Destination)? NextContinuationTarget(HttpContext context, LlmRequestFeature feature, AttemptRun run)
    {
        var now = _time.GetUtcNow();
        while (true)
        {
            foreach (var destination in run.ModelDestinations)
            {
                var id = destination.DestinationId;
                if (!run.WasTried(id) && feature.Snapshot.Targets.TryGetValue(id, out var target) && _health.TryEnter(id, now, out _))
                {
                    return (target, destination);
                }
            }

            if (NextFallback(context, feature, run, contextWindow: false) is not { } fallback)
            {
                return null;
            }

            run.StartModel(fallback, context.GetReverseProxyFeature().AvailableDestinations);
        }
    }

    private static void Finish(HttpContext context, LlmRequestFeature feature)
    {
        feature.HoldFailure = false;
        feature.StreamCut = null;
        context.Features.Set<IForwarderErrorFeature>(null);
    }
}
