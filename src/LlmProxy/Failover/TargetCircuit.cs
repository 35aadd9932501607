namespace LlmProxy.Failover;

/// <summary>
/// The circuit of one target (see <see cref="TargetHealth"/>): its state, consecutive failures and 429s, cooldown, probe
/// slot and <c>Retry-After</c> hold. Every member takes the circuit's own lock; the methods that change the state return
/// the state it moved to, or null when it stayed.
/// </summary>
internal sealed class TargetCircuit
{
    private readonly Lock _gate = new();
    private TargetCircuitState _state;
    private DateTimeOffset _openUntil;
    private DateTimeOffset _holdUntil;
    private DateTimeOffset? _probeSince;
    private TimeSpan _cooldown;
    private int _failures;
    private int _throttles;

    public TargetCircuit(string destinationId, string model, string provider, string label, HealthPolicy policy)
    {
        DestinationId = destinationId;
        Model = model;
        Provider = provider;
        Label = label;
        Policy = policy;
        _cooldown = policy.Cooldown;
    }

    /// <summary>The YARP destination id.</summary>
    public string DestinationId { get; }

    /// <summary>The public model the target serves (a metric label).</summary>
    public string Model { get; }

    /// <summary>The target's provider (a metric label).</summary>
    public string Provider { get; }

    /// <summary>The target's config name, <c>model#index</c> (a metric label).</summary>
    public string Label { get; }

    /// <summary>The model's policy as last reported (a reload may change it).</summary>
    public HealthPolicy Policy { get; set; }

    /// <summary>True while the circuit is counted as out of the ordinary (not closed, or held): see <see cref="TargetHealth.Any"/>.</summary>
    public bool Counted { get; set; }

    /// <summary>The state at <paramref name="now"/>; <paramref name="moved"/> is the state it just moved to (open → half-open), if any.</summary>
    public TargetCircuitState State(DateTimeOffset now, out TargetCircuitState? moved)
    {
        lock (_gate)
        {
            moved = Refresh(now);
            return _state;
        }
    }

    /// <summary>True when the circuit is closed and no hold is set at <paramref name="now"/> (nothing to remember).</summary>
    public bool IsPlain(DateTimeOffset now)
    {
        lock (_gate)
        {
            return _state == TargetCircuitState.Closed && _holdUntil <= now;
        }
    }

    /// <summary>True when a request may go to the target now; <paramref name="probe"/> when it took the half-open probe slot.</summary>
    public bool Enter(DateTimeOffset now, bool takeProbe, out bool probe, out TargetCircuitState? moved)
    {
        lock (_gate)
        {
            moved = Refresh(now);
            probe = false;
            if (_holdUntil > now)
            {
                return false;
            }

            switch (_state)
            {
                case TargetCircuitState.Closed:
                    return true;
                case TargetCircuitState.HalfOpen:
                    // A probe whose outcome never came back (its request ended some other way) frees the slot after the longest cooldown.
                    if (_probeSince is { } since && now - since < Policy.MaxCooldown)
                    {
                        return false;
                    }

                    if (takeProbe)
                    {
                        _probeSince = now;
                        probe = true;
                    }

                    return true;
                default:
                    return false;
            }
        }
    }

    /// <summary>When the target will take a request again (<paramref name="now"/> when it would now).</summary>
    public DateTimeOffset AvailableAt(DateTimeOffset now)
    {
        lock (_gate)
        {
            Refresh(now);
            var at = _holdUntil > now ? _holdUntil : now;
            return _state == TargetCircuitState.Open && _openUntil > at ? _openUntil : at;
        }
    }

    /// <summary>The target answered (or refused the request itself: it is up): the circuit closes.</summary>
    public TargetCircuitState? Succeeded(DateTimeOffset now)
    {
        lock (_gate)
        {
            Refresh(now);
            _failures = 0;
            _throttles = 0;
            _probeSince = null;
            if (_state == TargetCircuitState.Closed)
            {
                return null;
            }

            _state = TargetCircuitState.Closed;
            _cooldown = Policy.Cooldown;
            return TargetCircuitState.Closed;
        }
    }

    /// <summary>The request ended without telling anything about the target (the client left): a probe slot it held is free again.</summary>
    public void Released()
    {
        lock (_gate)
        {
            _probeSince = null;
        }
    }

    /// <summary>
    /// The target failed (or throttled, with <paramref name="throttled"/>). <paramref name="hold"/> is the provider's
    /// <c>Retry-After</c> when it gave one; <paramref name="held"/> tells whether it moved the hold later. Returns the
    /// new state when the circuit opened (again); <paramref name="openFor"/> is then how long.
    /// </summary>
    public TargetCircuitState? Failed(DateTimeOffset now, bool throttled, TimeSpan? hold, out bool held, out TimeSpan openFor)
    {
        lock (_gate)
        {
            Refresh(now);
            held = false;
            openFor = TimeSpan.Zero;
            var retryAfter = hold is { } h && h > TimeSpan.Zero ? h : TimeSpan.Zero;
            if (retryAfter > TimeSpan.Zero && now + retryAfter > _holdUntil)
            {
                _holdUntil = now + retryAfter;
                held = true;
            }

            if (throttled)
            {
                _throttles++;
            }
            else
            {
                _failures++;
            }

            switch (_state)
            {
                case TargetCircuitState.HalfOpen:
                    // The probe failed: open again for longer.
                    var doubled = _cooldown * 2;
                    _cooldown = doubled < Policy.MaxCooldown ? doubled : Policy.MaxCooldown;
                    return Open(now, retryAfter, out openFor);
                case TargetCircuitState.Open:
                    // A request sent while open (every target was out) failed too: it stays open, as long as the provider asks.
                    if (now + retryAfter > _openUntil)
                    {
                        _openUntil = now + retryAfter;
                    }

                    return null;
                default:
                    if (_failures < Policy.FailuresToOpen && _throttles < Policy.ThrottlesToOpen)
                    {
                        return null;
                    }

                    _cooldown = Policy.Cooldown;
                    return Open(now, retryAfter, out openFor);
            }
        }
    }

    /// <summary>
    /// Another replica opened the circuit (<paramref name="open"/>) or set a hold, for <paramref name="duration"/> from
    /// <paramref name="now"/>: this replica keeps the target out as long. Returns the new state when the circuit opened.
    /// </summary>
    public TargetCircuitState? Shared(DateTimeOffset now, bool open, TimeSpan duration)
    {
        lock (_gate)
        {
            Refresh(now);
            var until = now + duration;
            if (!open)
            {
                if (until > _holdUntil)
                {
                    _holdUntil = until;
                }

                return null;
            }

            if (_state == TargetCircuitState.Open)
            {
                if (until > _openUntil)
                {
                    _openUntil = until;
                }

                return null;
            }

            _state = TargetCircuitState.Open;
            _openUntil = until;
            _probeSince = null;
            _failures = 0;
            _throttles = 0;
            return TargetCircuitState.Open;
        }
    }

    private TargetCircuitState? Open(DateTimeOffset now, TimeSpan retryAfter, out TimeSpan openFor)
    {
        openFor = retryAfter > _cooldown ? retryAfter : _cooldown;
        _state = TargetCircuitState.Open;
        _openUntil = now + openFor;
        _probeSince = null;
        _failures = 0;
        _throttles = 0;
        return TargetCircuitState.Open;
    }

    // An open circuit whose cooldown is over is half-open: the next request that may use the target is its probe.
    private TargetCircuitState? Refresh(DateTimeOffset now)
    {
        if (_state == TargetCircuitState.Open && now >= _openUntil)
        {
            _state = TargetCircuitState.HalfOpen;
            _probeSince = null;
            return TargetCircuitState.HalfOpen;
        }

        return null;
    }
}
