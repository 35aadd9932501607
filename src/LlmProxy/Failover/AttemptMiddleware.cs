using System.Globalization;
using LlmProxy.Configuration;
using LlmProxy.Errors;
using LlmProxy.Hosting;
using LlmProxy.Providers;
using LlmProxy.Routing;
using LlmProxy.StructuredOutput;
using LlmProxy.Telemetry;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Primitives;
using Yarp.ReverseProxy;
using Yarp.ReverseProxy.Forwarder;
using Yarp.ReverseProxy.Model;

namespace LlmProxy.Failover;

/// <summary>
/// Stage 4b (before YARP load balancing): the one attempt loop. One attempt is the rest of the pipeline — load balancing
/// picks a target from the destinations this attempt may use, <see cref="TargetMiddleware"/> prepares the body for it,
/// YARP's forwarder sends it through the transforms — and its outcome is classified (<see cref="AttemptClassifier"/>).
/// Nothing of a failed attempt reaches the client: the provider's error is held (<see cref="LlmRequestFeature.HoldFailure"/>)
/// and sent only when no other attempt will answer. A provider that failed is tried again only when no other target is
/// left, after its <c>Retry-After</c> or a backoff (never after a timeout); a model whose targets are exhausted hands
/// over to its fallbacks; the model's deadline bounds it all, and the client's own cancellation stops it.
/// </summary>
internal sealed partial class AttemptMiddleware
{
    /// <summary>How many attempts the answer took.</summary>
    public const string AttemptsHeader = "x-llmproxy-attempts";

    /// <summary>The public model that answered (a fallback, when the requested model's targets failed).</summary>
    public const string ModelHeader = "x-llmproxy-model";

    private readonly RequestDelegate _next;
    private readonly LlmProxyMetrics _metrics;
    private readonly IProxyStateLookup _lookup;
    private readonly TargetHealth _health;
    private readonly TimeProvider _time;
    private readonly ILogger<AttemptMiddleware> _logger;

    public AttemptMiddleware(RequestDelegate next, LlmProxyMetrics metrics, IProxyStateLookup lookup, TargetHealth health, TimeProvider time,
        ILogger<AttemptMiddleware> logger)
    {
        _next = next;
        _metrics = metrics;
        _lookup = lookup;
        _health = health;
        _time = time;
        _logger = logger;
    }

    public Task Invoke(HttpContext context)
    {
        var feature = context.Features.GetRequiredFeature<LlmRequestFeature>();
        var plan = feature.Model!.Failover;
        // The whole request's bound, from its start (a stream that trickles on past it is ended by its guard).
        feature.DeadlineAt = feature.Start + (long)(plan.Deadline.TotalSeconds * _time.TimestampFrequency);
        var validation = feature.Output is { Policy: StructuredOutputPolicy.Retry, MaxAttempts: > 1 } expectation ? expectation : null;
        if (validation is null && !plan.MayRetry && plan.FirstByteTimeout is null && plan.ShortestProviderFirstByteTimeout is null && plan.FirstTokenTimeout is null
            && feature.Model.Targets.Length == 1)
        {
            // One attempt on the one target and nothing to time: the provider's answer or error goes to the client as it
            // comes (its health could not send it anywhere else).
            return _next(context);
        }

        return RunAsync(context, feature, plan, validation);
    }

    private async Task RunAsync(HttpContext context, LlmRequestFeature feature, FailoverPlan plan, OutputExpectation? validation)
    {
        var proxy = context.GetReverseProxyFeature();
        var run = new AttemptRun(feature, plan, proxy.AvailableDestinations, Snapshot(context.Response.Headers), context.RequestAborted);
        if (_health.Any)
        {
            // Targets whose circuit is open or whose provider asked for a pause are skipped while another one is available.
            SkipUnhealthy(context, feature, run);
        }

        if (plan.MayRetry && feature.Output is null && feature.Metered && feature.Request.Stream && feature.OperationPath == "/chat/completions")
        {
            // A stream cut mid-answer can be continued elsewhere: keep what the client gets.
            feature.Transcript = new StreamTranscript();
        }

        while (true)
        {
            if (Remaining(run) <= TimeSpan.Zero)
            {
                await FinishAsync(context, run, deadlineReached: true);
                return;
            }

            // A fallback moves the request to another cluster, with a proxy feature of its own: always the current one.
            context.GetReverseProxyFeature().AvailableDestinations = run.Destinations;
            if (feature.AnswersAsked > 1)
            {
                context.Response.Headers[ValidatedJsonResponse.AttemptsHeader] = feature.AnswersAsked.ToString(CultureInfo.InvariantCulture);
            }

            feature.HoldFailure = true;
            if (feature.Attempt > 1)
            {
                // Only an answer that took more than one attempt says so (and which model gave it).
                context.Response.Headers[AttemptsHeader] = feature.Attempt.ToString(CultureInfo.InvariantCulture);
                context.Response.Headers[ModelHeader] = feature.Model!.Name;
            }

            var attemptStart = _time.GetTimestamp();
            bool timedOut;
            if (NeedsTimer(feature, run, out var firstToken))
            {
                timedOut = await TimedAttemptAsync(context, feature, run, firstToken);
            }
            else
            {
                // Nothing to time that the idle timeout does not bound already (a silent provider is cut by it before the
                // deadline): no timer, no token of its own. The deadline still holds between attempts.
                await _next(context);
                timedOut = false;
            }

            var forwarderError = context.Features.Get<IForwarderErrorFeature>()?.Error ?? ForwarderError.None;
            var outcome = AttemptClassifier.Classify(run.ClientAborted.IsCancellationRequested, context.Response.HasStarted, feature.StreamCut is not null, timedOut,
                feature.RetryWanted is not null, forwarderError, feature.Failure);
            if (feature.Attempt > 1 || outcome != AttemptOutcome.Answered)
            {
                // A first attempt that answered is the request itself, already in the request metrics.
                _metrics.Attempt(feature.Model!.Name, feature.Target?.Provider.Name, AttemptClassifier.Label(outcome), feature.UpstreamStatus,
                    _time.GetElapsedTime(attemptStart).TotalSeconds);
            }

            ReportHealth(feature, outcome);
            run.TimedOut = outcome == AttemptOutcome.TimedOut;
            if (outcome == AttemptOutcome.Cut)
            {
                await ContinueAsync(context, feature, run);
                return;
            }

            if (outcome is AttemptOutcome.Answered or AttemptOutcome.ClientGone or AttemptOutcome.Refused)
            {
                await FinishAsync(context, run, deadlineReached: false);
                return;
            }

            if (outcome == AttemptOutcome.InvalidAnswer)
            {
                var invalid = feature.RetryWanted!;
                var previous = feature.Target!;
                feature.NextAttempt(answered: true);
                _metrics.ValidationRetry(feature.Model!.Name);
                NextRequest(feature, run.ClientBody, run.ClientRequest, validation!.RepairMessage ? invalid : null);
                run.Destinations = validation.RetryNextTarget && NextDestination(run.ModelDestinations, feature, previous) is { } next ? [next] : run.ModelDestinations;
                Reset(context, run);
                context.Response.Headers[ValidatedJsonResponse.AttemptsHeader] = feature.AnswersAsked.ToString(CultureInfo.InvariantCulture);
                continue;
            }

            if (!await NextAfterFailureAsync(context, feature, run, outcome))
            {
                await FinishAsync(context, run, deadlineReached: false);
                return;
            }
        }
    }

    // Whether the attempt needs a timer of the loop's own (false when nothing is to be timed that the idle timeout does
    // not bound already), and the first-token limit that applies to it.
    private bool NeedsTimer(LlmRequestFeature feature, AttemptRun run, out TimeSpan? firstToken)
    {
        firstToken = feature.Request.Stream && feature.Metered ? run.Plan.FirstTokenTimeout : null;
        return run.Plan.FirstByteTimeout is not null || run.Plan.ShortestProviderFirstByteTimeout is not null || firstToken is not null
            || Remaining(run) < feature.Model!.Timeout;
    }

    // One attempt, timed when it needs to be (the loop's own first attempt inlines this). True when the loop's own timer ended it.
    private async Task<bool> AttemptAsync(HttpContext context, LlmRequestFeature feature, AttemptRun run)
    {
        if (NeedsTimer(feature, run, out var firstToken))
        {
            return await TimedAttemptAsync(context, feature, run, firstToken);
        }

        await _next(context);
        return false;
    }

    // One attempt, with a token of its own: it ends when the client leaves, when the first-byte timeout passes without
    // response headers, or at the deadline. True when the loop's own timer ended it.
    private async Task<bool> TimedAttemptAsync(HttpContext context, LlmRequestFeature feature, AttemptRun run, TimeSpan? firstToken)
    {
        using var timer = new AttemptTimer(_time, feature, run.ClientAborted, Remaining(run), run.Plan.FirstByteTimeout, run.Plan.ShortestProviderFirstByteTimeout,
            firstToken);
        context.RequestAborted = timer.Token;
        try
        {
            await _next(context);
        }
        finally
        {
            context.RequestAborted = run.ClientAborted;
        }

        return timer.Fired;
    }

    // After a failed attempt: another target of the model at once; else the same one after its Retry-After or a backoff
    // (never a silent one again); else the model's fallbacks. False when nothing is left to try.
    private async Task<bool> NextAfterFailureAsync(HttpContext context, LlmRequestFeature feature, AttemptRun run, AttemptOutcome outcome)
    {
        var failed = feature.Target;
        var failure = feature.Failure;
        var now = _time.GetUtcNow();
        if (failed is not null)
        {
            run.Tried.Add(failed.DestinationId);
        }

        var model = feature.Model!;
        var plan = model.Failover;
        TimeSpan? wait = null;
        IReadOnlyList<DestinationState>? next = null;
        if (outcome != AttemptOutcome.ContextWindow && run.OnModel < plan.MaxAttempts)
        {
            next = Choose(run.ModelDestinations, run, now);
            if (next is null && outcome is not (AttemptOutcome.TimedOut or AttemptOutcome.Unsupported))
            {
                // The same target again after the wait, unless it is still out of rotation then (its circuit opened) and a
                // fallback is left.
                var delay = failure?.RetryAfter ?? Backoff.Of(run.OnModel, plan.Backoff, plan.MaxBackoff, Random.Shared.NextDouble());
                if (delay <= plan.MaxBackoff && delay < Remaining(run) && !OutOfRotation(run, now + delay))
                {
                    wait = delay;
                    next = run.ModelDestinations;
                }
            }
        }

        var fallback = next is null ? NextFallback(context, feature, run, outcome == AttemptOutcome.ContextWindow) : null;
        // A failure another attempt may rescue is Information; the one the client gets is a Warning.
        Log.AttemptFailed(_logger, next is null && fallback is null ? LogLevel.Warning : LogLevel.Information, feature.RequestId, feature.Attempt, model.Name,
            failed?.Provider.Name ?? "-", AttemptClassifier.Label(outcome),
            feature.UpstreamStatus, next is not null ? (wait is { } w ? $"retry in {w.TotalMilliseconds:0} ms" : "next target") : fallback is not null ? "fallback " + fallback.Name : "none");
        if (next is null && fallback is null)
        {
            return false;
        }

        feature.NextAttempt(answered: false);
        Reset(context, run);
        if (wait is { } pause && pause > TimeSpan.Zero)
        {
            try
            {
                await Task.Delay(pause, _time, run.ClientAborted);
            }
            catch (OperationCanceledException)
            {
                return false;
            }
        }

        if (fallback is not null)
        {
            run.StartModel(fallback, context.GetReverseProxyFeature().AvailableDestinations);
            next = Rested(run);
        }

        run.OnModel++;
        run.Destinations = next!;
        return true;
    }

    // The next fallback the key may use, moved to (its YARP cluster); null when none is left.
    private ModelRoute? NextFallback(HttpContext context, LlmRequestFeature feature, AttemptRun run, bool contextWindow)
    {
        var names = contextWindow ? run.Primary.Failover.ContextWindowFallbacks : run.Primary.Failover.Fallbacks;
        ref var index = ref contextWindow ? ref run.ContextFallbackIndex : ref run.FallbackIndex;
        while (index < names.Length)
        {
            var name = names[index++];
            if (feature.Snapshot.Models.TryGetValue(name, out var model) && model != feature.Model && feature.Key.MayUse(model.Name)
                && _lookup.TryGetCluster(model.ClusterId, out var cluster))
            {
                feature.Model = model;
                context.ReassignProxyRequest(cluster);
                return model;
            }
        }

        return null;
    }

    // The model's destinations in rotation (their circuit closed, no hold) and not failed in this request; null when none
    // is left. A half-open target whose probe slot this request takes is the only one: the probe goes out now.
    private IReadOnlyList<DestinationState>? Choose(IReadOnlyList<DestinationState> destinations, AttemptRun run, DateTimeOffset now)
    {
        List<DestinationState>? left = null;
        foreach (var destination in destinations)
        {
            if (!run.WasTried(destination.DestinationId) && _health.TryEnter(destination.DestinationId, now, out var probe))
            {
                if (probe)
                {
                    return [destination];
                }

                (left ??= new List<DestinationState>(destinations.Count)).Add(destination);
            }
        }

        return left;
    }

    // Nothing more to try: the last provider error goes to the client (a forwarder error is written by the stage
    // before, as usual); a timeout of the loop's own is a 504.
    private async Task FinishAsync(HttpContext context, AttemptRun run, bool deadlineReached)
    {
        var feature = run.Feature;
        feature.HoldFailure = false;
        if (context.Response.HasStarted || run.ClientAborted.IsCancellationRequested)
        {
            return;
        }

        if (feature.Failure is { } failure)
        {
            // The last provider error says more than the gateway's own timeout.
            await UpstreamErrorRewriter.WriteAsync(context, failure);
            return;
        }

        if (deadlineReached || run.TimedOut)
        {
            Reset(context, run);
            context.Response.Headers[AttemptsHeader] = feature.Attempt.ToString(CultureInfo.InvariantCulture);
            context.Response.Headers[ModelHeader] = feature.Model!.Name;
            await ErrorWriter.WriteAsync(context, LlmError.UpstreamTimeout, deadlineReached
                ? "The request's deadline passed before a provider answered."
                : $"The provider '{ErrorText.Clip(feature.Target?.Provider.Name ?? "-")}' sent no response headers in time.");
        }
    }

    // The time left until the request's deadline (the requested model's, counted from the request's start).
    private TimeSpan Remaining(AttemptRun run) => _time.GetElapsedTime(_time.GetTimestamp(), run.Feature.DeadlineAt);

    // The next attempt's request for a structured-output retry: the client's body, with the repair turn when there is
    // one, read again so that the feature describes the body TargetMiddleware prepares for the next target.
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
    private static DestinationState? NextDestination(IReadOnlyList<DestinationState> destinations, LlmRequestFeature feature, ModelTarget previous)
    {
        var targets = feature.Model?.Targets ?? [];
        if (targets.Length == 0)
        {
            return null;
        }

        var next = targets[(Array.IndexOf(targets, previous) + 1) % targets.Length];
        foreach (var destination in destinations)
        {
            if (destination.DestinationId == next.DestinationId)
            {
                return destination;
            }
        }

        return null;
    }

    // The response headers the stages before the loop set (copied into an array of their number: no enumerator, no list).
    private static KeyValuePair<string, StringValues>[] Snapshot(IHeaderDictionary headers)
    {
        if (headers.Count == 0)
        {
            return [];
        }

        var copy = new KeyValuePair<string, StringValues>[headers.Count];
        headers.CopyTo(copy, 0);
        return copy;
    }

    // YARP forwards only into a response that is untouched (status 200, not started): the last attempt's status, headers
    // and error go, the stages' headers come back.
    private static void Reset(HttpContext context, AttemptRun run)
    {
        var response = context.Response;
        response.Clear();
        foreach (var (name, value) in run.Headers)
        {
            response.Headers[name] = value;
        }

        context.Features.Set<IForwarderErrorFeature>(null);
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = EventIds.AttemptFailed,
            Message = "Request {RequestId} attempt {Attempt} on model {Model} via provider {Provider} failed ({Outcome}, upstream status {Status}); next: {Next}")]
        public static partial void AttemptFailed(ILogger logger, LogLevel level, string requestId, int attempt, string model, string provider, string outcome, int status,
            string next);

        [LoggerMessage(EventId = EventIds.StreamContinuation, Level = LogLevel.Warning,
            Message = "Request {RequestId} on model {Model}: the stream was cut mid-answer; continuation ({Mode}): {Result}")]
        public static partial void ContinuationEnded(ILogger logger, string requestId, string model, string mode, string result);
    }
}
