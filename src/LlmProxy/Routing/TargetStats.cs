using System.Collections.Concurrent;
using LlmProxy.Hosting;
using Yarp.ReverseProxy.Forwarder;

namespace LlmProxy.Routing;

/// <summary>
/// What <c>latency</c> balancing knows of each target, keyed by destination id: time to first token and error rate as
/// time-decayed EWMAs (<see cref="TargetStat"/>). Requests in flight are YARP's own count on the destination. Fed by
/// <see cref="Providers.TargetMiddleware"/> when an attempt ends, only for models that balance by latency over more than
/// one target. One instance per host (a DI singleton), bounded by <see cref="MaxTargets"/>.
/// </summary>
internal sealed class TargetStats
{
    /// <summary>Most targets tracked; past it the table starts again (ids change only with the config, so this means many reloads).</summary>
    public const int MaxTargets = 4096;

    /// <summary>How much more an error weighs than a success: the score is latency × (1 + <see cref="ErrorPenalty"/> × error rate).</summary>
    public const double ErrorPenalty = 10;

    /// <summary>The cost of a target with a request in flight and no (recent) measurement, per request: higher than any measured one.</summary>
    public const double UnmeasuredCost = 1e9;

    /// <summary>Time constant τ of the EWMAs: a sample weighs <c>1 − e^(−Δt/τ)</c>.</summary>
    public static readonly TimeSpan Decay = TimeSpan.FromSeconds(10);

    /// <summary>
    /// A target without a sample for this long counts as unmeasured: it gets the next request that draws it (one at a
    /// time), so a target that was slow or failing once is measured again rather than avoided for ever.
    /// </summary>
    public static readonly TimeSpan StaleAfter = TimeSpan.FromSeconds(10);

    private readonly ConcurrentDictionary<string, TargetStat> _stats = new(StringComparer.Ordinal);
    private readonly TimeProvider _time;

    /// <summary>Creates the table.</summary>
    public TargetStats(TimeProvider time) => _time = time;

    /// <summary>The measurements of <paramref name="destinationId"/>, or null before its first sample.</summary>
    public TargetStat? Get(string destinationId) => _stats.GetValueOrDefault(destinationId);

    /// <summary>
    /// The target's score (lower is better): EWMA time to first token × (1 + <see cref="ErrorPenalty"/> × EWMA error
    /// rate) × (1 + <paramref name="inFlight"/>). Unmeasured (or stale): 0 when idle, else <see cref="UnmeasuredCost"/> × in flight.
    /// </summary>
    public double Score(string destinationId, int inFlight)
    {
        var stat = _stats.GetValueOrDefault(destinationId);
        var last = stat?.LastSample ?? 0;
        if (last == 0 || _time.GetElapsedTime(last) > StaleAfter)
        {
            return inFlight <= 0 ? 0 : UnmeasuredCost * inFlight;
        }

        return stat!.LatencyMs * (1 + (ErrorPenalty * stat.ErrorRate)) * (1 + Math.Max(0, inFlight));
    }

    /// <summary>Adds one sample: the time to first token (for a failure, the time it took) and whether the attempt failed.</summary>
    public void Record(string destinationId, TimeSpan latency, bool failed)
    {
        if (!_stats.TryGetValue(destinationId, out var stat))
        {
            if (_stats.Count >= MaxTargets)
            {
                _stats.Clear();
            }

            stat = _stats.GetOrAdd(destinationId, static _ => new TargetStat());
        }

        stat.Add(Math.Max(0, latency.TotalMilliseconds), failed, _time.GetTimestamp(), _time, Decay);
    }

    /// <summary>
    /// Records the attempt that just ended on <paramref name="destinationId"/> (it began at <paramref name="started"/>):
    /// an answer (2xx/3xx) gives its time to first token (to the response headers when no text came, and for an answer
    /// that is not streamed); 429, 5xx, no answer, a timeout or a cut stream count as a failure; another 4xx is the
    /// request's fault and, like the client leaving, says nothing about the target.
    /// </summary>
    public void RecordAttempt(LlmRequestFeature feature, string destinationId, long started, ForwarderError error)
    {
        if (feature.ClientAborted.IsCancellationRequested || error is ForwarderError.RequestBodyClient or ForwarderError.ResponseBodyClient)
        {
            return;
        }

        var status = feature.UpstreamStatus;
        var failed = error != ForwarderError.None || status is 0 or 429 or >= 500 || feature.StreamCut is not null;
        if (!failed && status >= 400)
        {
            return;
        }

        var answered = feature.FirstToken > started ? feature.FirstToken : feature.UpstreamHeaders > started ? feature.UpstreamHeaders : _time.GetTimestamp();
        Record(destinationId, _time.GetElapsedTime(started, answered), failed);
    }
}
