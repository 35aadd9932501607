namespace LlmProxy.RateLimiting;

/// <summary>
/// Whether Redis is answering, judged from the replies themselves rather than from one slow reply: it opens after
/// <see cref="FailuresToOpen"/> failures in a row (an error, or no reply within the longest wait), stays open for
/// <see cref="OpenTime"/>, then lets one probe through, whose reply closes it or opens it for another period.
/// </summary>
public sealed class RedisCircuit
{
    /// <summary>Failures in a row that open the circuit.</summary>
    public const int FailuresToOpen = 3;

    /// <summary>How long the circuit stays open before it lets a probe through.</summary>
    public static readonly TimeSpan OpenTime = TimeSpan.FromSeconds(1);

    private readonly TimeProvider _time;
    private readonly Lock _gate = new();
    private volatile CircuitState _state;
    private int _failures;
    private long _since;

    /// <summary>Creates a closed circuit.</summary>
    public RedisCircuit(TimeProvider time) => _time = time;

    /// <summary>The state, as the last call left it.</summary>
    public CircuitState State => _state;

    /// <summary>
    /// What one call may do: <see cref="CircuitState.Closed"/> call Redis, <see cref="CircuitState.HalfOpen"/> call it
    /// as the probe, <see cref="CircuitState.Open"/> do not call it. Every call let through must report its outcome.
    /// </summary>
    public CircuitState Enter()
    {
        if (_state == CircuitState.Closed)
        {
            return CircuitState.Closed;
        }

        lock (_gate)
        {
            // A probe is due once the open period has passed since the circuit opened or the last probe started, so a
            // probe that never reports does not keep the circuit open for good.
            if (_state != CircuitState.Closed && _time.GetElapsedTime(_since) >= OpenTime)
            {
                _state = CircuitState.HalfOpen;
                _since = _time.GetTimestamp();
                return CircuitState.HalfOpen;
            }

            return _state == CircuitState.Closed ? CircuitState.Closed : CircuitState.Open;
        }
    }

    /// <summary>Records a reply: the failures in a row start again from zero and the circuit closes.</summary>
    public void Succeeded()
    {
        // The hot path: nothing to write while Redis keeps answering.
        if (_state == CircuitState.Closed && Volatile.Read(ref _failures) == 0)
        {
            return;
        }

        lock (_gate)
        {
            _failures = 0;
            _state = CircuitState.Closed;
        }
    }

    /// <summary>Records a failure: a failed probe, or the last of <see cref="FailuresToOpen"/> in a row, opens the circuit.</summary>
    public void Failed()
    {
        lock (_gate)
        {
            _failures++;
            if (_state == CircuitState.HalfOpen || (_state == CircuitState.Closed && _failures >= FailuresToOpen))
            {
                _state = CircuitState.Open;
                _since = _time.GetTimestamp();
            }
        }
    }
}
