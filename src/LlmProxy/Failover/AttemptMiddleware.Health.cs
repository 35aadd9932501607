using LlmProxy.Configuration;
using LlmProxy.Hosting;
using Yarp.ReverseProxy.Model;

namespace LlmProxy.Failover;

/// <summary>The attempt loop's side of passive health (<see cref="TargetHealth"/>): what it reports, and how it skips targets out of rotation.</summary>
internal sealed partial class AttemptMiddleware
{
    // The attempt's outcome, to its target's circuit.
    private void ReportHealth(LlmRequestFeature feature, AttemptOutcome outcome)
    {
        if (feature.Target is { } target && feature.Model is { } model)
        {
            _health.Report(model, target, outcome, feature.Failure?.RetryAfter, _time.GetUtcNow());
        }
    }

    // A continuation attempt's outcome, to its target's circuit: an answer that went on (or diverged: the provider is up)
    // closes it; a cut, failure or silence counts against it.
    private void ReportContinuationHealth(LlmRequestFeature feature, ModelTarget target, AttemptRun run, bool answered)
    {
        var outcome = answered ? AttemptOutcome.Answered
            : run.ClientAborted.IsCancellationRequested ? AttemptOutcome.ClientGone
            : feature.StreamCut is not null ? AttemptOutcome.Cut
            : feature.Failure is { } failure ? AttemptClassifier.OfStatus(failure.ProviderStatus, failure.Code)
            : AttemptOutcome.Unreachable;
        _health.Report(feature.Model!, target, outcome, feature.Failure?.RetryAfter, _time.GetUtcNow());
    }

    // Before the first attempt, while some circuit is open or held: the model's targets in rotation; when none is, the
    // first fallback that has one (the request moves to it); when no model has one, the target of the last model looked
    // at that takes requests again soonest (a request is never failed without trying).
    private void SkipUnhealthy(HttpContext context, LlmRequestFeature feature, AttemptRun run)
    {
        var now = _time.GetUtcNow();
        while (true)
        {
            if (Choose(run.ModelDestinations, run, now) is { } rested)
            {
                run.Destinations = rested;
                return;
            }

            if (NextFallback(context, feature, run, contextWindow: false) is not { } fallback)
            {
                run.Destinations = Soonest(run.ModelDestinations, now);
                return;
            }

            run.StartModel(fallback, context.GetReverseProxyFeature().AvailableDestinations);
            run.OnModel = 1;
        }
    }

    // True when every target of the model is out of rotation and a fallback is left: go there rather than wait for one.
    private bool OutOfRotation(AttemptRun run, DateTimeOffset now)
    {
        if (run.FallbackIndex >= run.Primary.Failover.Fallbacks.Length)
        {
            return false;
        }

        foreach (var destination in run.ModelDestinations)
        {
            if (_health.IsAvailable(destination.DestinationId, now))
            {
                return false;
            }
        }

        return true;
    }

    // A fallback's destinations in rotation, else the one back soonest.
    private IReadOnlyList<DestinationState> Rested(AttemptRun run)
    {
        var now = _time.GetUtcNow();
        return Choose(run.ModelDestinations, run, now) ?? Soonest(run.ModelDestinations, now);
    }

    // The destination whose circuit or hold ends first.
    private IReadOnlyList<DestinationState> Soonest(IReadOnlyList<DestinationState> destinations, DateTimeOffset now)
    {
        DestinationState? soonest = null;
        var at = DateTimeOffset.MaxValue;
        foreach (var destination in destinations)
        {
            var available = _health.AvailableAt(destination.DestinationId, now);
            if (available < at)
            {
                at = available;
                soonest = destination;
            }
        }

        return soonest is null ? destinations : [soonest];
    }
}
