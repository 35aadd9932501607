using System.Globalization;
using LlmProxy.Configuration;
using LlmProxy.Hosting;
using LlmProxy.Routing;
using LlmProxy.StructuredOutput;
using LlmProxy.Telemetry;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Primitives;
using Yarp.ReverseProxy.Forwarder;
using Yarp.ReverseProxy.Model;

namespace LlmProxy.Providers;

/// <summary>
/// Stage 4b (before YARP load balancing): runs the request's attempts. One attempt is the rest of the pipeline — load
/// balancing picks a target from the destinations this attempt may use, <see cref="TargetMiddleware"/> prepares the body
/// for it, YARP's forwarder sends it through the transforms — and then its outcome is classified. Today only a
/// structured-output answer that failed under <c>retry</c> before anything reached the client is asked for again (on the
/// next target with <c>retry_target: next</c>); requests that cannot be retried take the fast path, one attempt.
/// </summary>
internal sealed class AttemptMiddleware
{
    private readonly RequestDelegate _next;
    private readonly LlmProxyMetrics _metrics;

    public AttemptMiddleware(RequestDelegate next, LlmProxyMetrics metrics)
    {
        _next = next;
        _metrics = metrics;
    }

    public Task Invoke(HttpContext context)
    {
        var feature = context.Features.GetRequiredFeature<LlmRequestFeature>();
        if (feature.Output is not { Policy: StructuredOutputPolicy.Retry, MaxAttempts: > 1 } expectation)
        {
            return _next(context);
        }

        return RunAttemptsAsync(context, feature, expectation);
    }

    private async Task RunAttemptsAsync(HttpContext context, LlmRequestFeature feature, OutputExpectation expectation)
    {
        var proxy = context.GetReverseProxyFeature();
        var destinations = proxy.AvailableDestinations;
        // What the stages before set on the response (request id, rate-limit headers) is kept for every attempt.
        KeyValuePair<string, StringValues>[] headers = [.. context.Response.Headers];
        var clientBody = feature.Body;
        var clientRequest = feature.Request;
        while (true)
        {
            await _next(context);
            if (Classify(context, feature) != AttemptOutcome.Retry)
            {
                break;
            }

            var invalid = feature.RetryWanted!;
            var previous = feature.Target!;
            feature.NextAttempt();
            _metrics.ValidationRetry(feature.Model?.Name ?? clientRequest.Model);

            NextRequest(feature, clientBody, clientRequest, expectation.RepairMessage ? invalid : null);
            proxy.AvailableDestinations = expectation.RetryNextTarget && NextDestination(proxy, feature, previous) is { } next ? next : destinations;
            Reset(context, headers);
            context.Response.Headers[ValidatedJsonResponse.AttemptsHeader] = feature.Attempt.ToString(CultureInfo.InvariantCulture);
        }
    }

    // What the attempt's response said. Another attempt needs an answer the response side asked to retry and a client
    // that has received nothing (the response can still be replaced) and is still there.
    private static AttemptOutcome Classify(HttpContext context, LlmRequestFeature feature)
    {
        var retry = feature.RetryWanted is not null && !context.Response.HasStarted && !context.RequestAborted.IsCancellationRequested;
        if (retry)
        {
            return AttemptOutcome.Retry;
        }

        feature.RetryWanted = null;
        return context.Features.Get<IForwarderErrorFeature>() is not null || context.Response.StatusCode is 429 or >= 500
            ? AttemptOutcome.Failed
            : AttemptOutcome.Done;
    }

    // The next attempt's request: the client's body, with the repair turn when there is one, read again so that the
    // feature describes the body TargetMiddleware prepares for the next target.
    private static void NextRequest(LlmRequestFeature feature, ArraySegment<byte> clientBody, LlmRequestInfo clientRequest, InvalidAnswer? invalid)
    {
        if (invalid is not null && RepairTurn.Append(clientBody, invalid) is { } repaired
            && LlmRequestParser.TryParse(repaired, out var info) == LlmRequestParser.Failure.None)
        {
            feature.Body = repaired;
            feature.Request = info;
            return;
        }

        feature.Body = clientBody;
        feature.Request = clientRequest;
    }

    // The destination of the model's target after the previous one, or null when the cluster has none for it (a reload).
    private static DestinationState? NextDestination(Yarp.ReverseProxy.Model.IReverseProxyFeature proxy, LlmRequestFeature feature, ModelTarget previous)
    {
        var targets = feature.Model?.Targets ?? [];
        if (targets.Length == 0)
        {
            return null;
        }

        var next = targets[(Array.IndexOf(targets, previous) + 1) % targets.Length];
        foreach (var destination in proxy.AllDestinations)
        {
            if (destination.DestinationId == next.DestinationId)
            {
                return destination;
            }
        }

        return null;
    }

    // YARP forwards only into a response that is untouched (status 200, not started): the last attempt's status, headers
    // and error go, the stages' headers come back.
    private static void Reset(HttpContext context, KeyValuePair<string, StringValues>[] headers)
    {
        var response = context.Response;
        response.Clear();
        foreach (var (name, value) in headers)
        {
            response.Headers[name] = value;
        }

        context.Features.Set<IForwarderErrorFeature>(null);
    }
}
