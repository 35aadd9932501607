namespace LlmProxy.Routing;

/// <summary>
/// One target's measurements for <c>latency</c> balancing: an EWMA of its time to first token and of its error rate,
/// both decaying with time (a sample <c>Δt</c> after the previous one weighs <c>1 − e^(−Δt/τ)</c>).
/// </summary>
internal sealed class TargetStat
{
    private readonly Lock _lock = new();
    private double _latencyMs;
    private double _errorRate;
    private long _lastSample;

    /// <summary>The EWMA of the time to first token, in milliseconds.</summary>
    public double LatencyMs => Volatile.Read(ref _latencyMs);

    /// <summary>The EWMA of the error rate (0 to 1).</summary>
    public double ErrorRate => Volatile.Read(ref _errorRate);

    /// <summary>The <see cref="TimeProvider.GetTimestamp"/> of the last sample; 0 before the first.</summary>
    public long LastSample => Volatile.Read(ref _lastSample);

    /// <summary>
    /// Adds one attempt: its time to first token (for a failure, the time it took, which only ever raises the average:
    /// a failure never makes a target look faster) and whether it failed.
    /// </summary>
    public void Add(double latencyMs, bool failed, long now, TimeProvider time, TimeSpan decay)
    {
        lock (_lock)
        {
            var last = _lastSample;
            var error = failed ? 1.0 : 0.0;
            if (last == 0)
            {
                _latencyMs = latencyMs;
                _errorRate = error;
            }
            else
            {
                var elapsed = time.GetElapsedTime(last, now);
                var weight = elapsed <= TimeSpan.Zero ? 0 : 1 - Math.Exp(-elapsed.TotalMilliseconds / decay.TotalMilliseconds);
                if (!failed || latencyMs > _latencyMs)
                {
                    Volatile.Write(ref _latencyMs, _latencyMs + (weight * (latencyMs - _latencyMs)));
                }

                Volatile.Write(ref _errorRate, _errorRate + (weight * (error - _errorRate)));
            }

            // Timestamps are never 0 in practice; keep it "sampled" even on a clock that starts there.
            Volatile.Write(ref _lastSample, now == 0 ? 1 : now);
        }
    }
}
