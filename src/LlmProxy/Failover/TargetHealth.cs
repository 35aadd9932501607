using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using LlmProxy.Configuration;
using LlmProxy.Telemetry;

namespace LlmProxy.Failover;

/// <summary>
/// Passive health of every target (a YARP destination), from the outcomes the attempt loop reports: a circuit per
/// target goes Closed → Open after <c>failures_to_open</c> consecutive failures or <c>throttles_to_open</c> consecutive
/// 429s, for a cooldown of at least the provider's <c>Retry-After</c>; → HalfOpen when the cooldown is over, where
/// exactly one request (the probe) is let through; → Closed when the probe succeeds, or Open again with the cooldown
/// doubled (up to <c>max_cooldown_seconds</c>) when it fails. Independently of the circuit, a <c>Retry-After</c> on a 429
/// or 503 keeps the target out until then. One instance per host (a DI singleton); a target that never failed has no
/// entry, and <see cref="Any"/> is false while every circuit is closed and no hold is set, so the attempt loop looks
/// nothing up then. When the config has Redis, openings and holds are shared with the other replicas
/// (<see cref="TargetHealthSharing"/>).
/// </summary>
internal sealed partial class TargetHealth
{
    private readonly ConcurrentDictionary<string, TargetCircuit> _circuits = new(StringComparer.Ordinal);
    private readonly TimeProvider _time;
    private readonly LlmProxyMetrics? _metrics;
    private readonly ConfigStore? _store;
    private readonly ILogger? _logger;
    private int _unusual;

    /// <summary>Creates the (empty) table; with <paramref name="store"/> and <paramref name="metrics"/> it reports <c>llmproxy.target.health</c>.</summary>
    public TargetHealth(TimeProvider time, LlmProxyMetrics? metrics = null, ConfigStore? store = null, ILogger<TargetHealth>? logger = null)
    {
        _logger = logger;
        _time = time;
        _metrics = metrics;
        _store = store;
        if (store is not null)
        {
            metrics?.ObserveTargetHealth(Observe);
            store.ReloadAttempted += outcome =>
            {
                if (outcome.Status == ConfigReloadStatus.Applied)
                {
                    Retain(store.Current);
                }
            };
        }
    }

    /// <summary>A circuit opened or a hold was set here (not one learnt from another replica): the destination, true for an opening, and for how long.</summary>
    public event Action<string, bool, TimeSpan>? Tripped;

    /// <summary>True when some circuit is not closed or some hold is set (or was until recently): the fast check before any lookup.</summary>
    public bool Any => Volatile.Read(ref _unusual) > 0;

    /// <summary>
    /// True when a request may go to <paramref name="destinationId"/> at <paramref name="now"/>: its circuit is closed,
    /// or half-open with the probe slot free, and no hold is set. Takes nothing (see <see cref="TryEnter"/>).
    /// </summary>
    public bool IsAvailable(string destinationId, DateTimeOffset now)
        => !_circuits.TryGetValue(destinationId, out var circuit) || Enter(circuit, now, takeProbe: false, out _);

    /// <summary>
    /// True when this request may go to <paramref name="destinationId"/>; when its circuit is half-open this request takes
    /// the one probe slot (<paramref name="probe"/>), and every other caller is refused until the probe's outcome is reported.
    /// </summary>
    public bool TryEnter(string destinationId, DateTimeOffset now, out bool probe)
    {
        probe = false;
        return !_circuits.TryGetValue(destinationId, out var circuit) || Enter(circuit, now, takeProbe: true, out probe);
    }

    /// <summary>When <paramref name="destinationId"/> takes requests again (<paramref name="now"/> when it does now).</summary>
    public DateTimeOffset AvailableAt(string destinationId, DateTimeOffset now)
        => _circuits.TryGetValue(destinationId, out var circuit) ? circuit.AvailableAt(now) : now;

    /// <summary>The circuit's state at <paramref name="now"/>.</summary>
    public TargetCircuitState StateOf(string destinationId, DateTimeOffset now)
    {
        if (!_circuits.TryGetValue(destinationId, out var circuit))
        {
            return TargetCircuitState.Closed;
        }

        var state = circuit.State(now, out var moved);
        Transitioned(circuit, moved, now);
        return state;
    }

    /// <summary>
    /// The outcome of an attempt on <paramref name="target"/> of <paramref name="model"/>: an answer (or a refusal of
    /// the request itself, the provider is up) closes its circuit; a failure, timeout or cut counts towards
    /// <c>failures_to_open</c>, a 429 towards <c>throttles_to_open</c>, and <paramref name="retryAfter"/> holds it; a
    /// client that left only frees the probe slot.
    /// </summary>
    public void Report(ModelRoute model, ModelTarget target, AttemptOutcome outcome, TimeSpan? retryAfter, DateTimeOffset now)
    {
        switch (outcome)
        {
            case AttemptOutcome.Throttled or AttemptOutcome.ServerError or AttemptOutcome.Unreachable or AttemptOutcome.TimedOut or AttemptOutcome.Cut:
                var circuit = CircuitOf(model, target);
                circuit.Policy = model.Failover.Health;
                var hold = outcome is AttemptOutcome.Throttled or AttemptOutcome.ServerError ? retryAfter : null;
                var moved = circuit.Failed(now, outcome == AttemptOutcome.Throttled, hold, out var held, out var openFor);
                Transitioned(circuit, moved, now);
                if (moved == TargetCircuitState.Open)
                {
                    Tripped?.Invoke(target.DestinationId, true, openFor);
                }
                else if (held)
                {
                    Tripped?.Invoke(target.DestinationId, false, hold!.Value);
                }

                break;
            case AttemptOutcome.ClientGone:
                if (_circuits.TryGetValue(target.DestinationId, out var left))
                {
                    left.Released();
                }

                break;
            default:
                if (_circuits.TryGetValue(target.DestinationId, out var answered))
                {
                    Transitioned(answered, answered.Succeeded(now), now);
                }

                break;
        }
    }

    /// <summary>Another replica opened the circuit of <paramref name="target"/> (<paramref name="open"/>) or held it, for <paramref name="duration"/>.</summary>
    public void Share(ModelRoute model, ModelTarget target, bool open, TimeSpan duration, DateTimeOffset now)
    {
        var circuit = CircuitOf(model, target);
        Transitioned(circuit, circuit.Shared(now, open, duration), now);
    }

    /// <summary>The config name of a target for labels: its destination id up to the provider (<c>model#index</c>).</summary>
    public static string LabelOf(string model, string destinationId)
    {
        var colon = destinationId.StartsWith(model + "#", StringComparison.Ordinal) ? destinationId.IndexOf(':', model.Length) : -1;
        return colon > 0 ? destinationId[..colon] : destinationId;
    }

    /// <summary>Forgets the circuits of targets <paramref name="snapshot"/> no longer has.</summary>
    public void Retain(GatewaySnapshot snapshot)
    {
        foreach (var (id, circuit) in _circuits)
        {
            if (!snapshot.Targets.ContainsKey(id) && _circuits.TryRemove(new KeyValuePair<string, TargetCircuit>(id, circuit)))
            {
                lock (circuit)
                {
                    if (circuit.Counted)
                    {
                        circuit.Counted = false;
                        Interlocked.Decrement(ref _unusual);
                    }
                }
            }
        }
    }

    private bool Enter(TargetCircuit circuit, DateTimeOffset now, bool takeProbe, out bool probe)
    {
        var entered = circuit.Enter(now, takeProbe, out probe, out var moved);
        Transitioned(circuit, moved, now);
        return entered;
    }

    private TargetCircuit CircuitOf(ModelRoute model, ModelTarget target)
    {
        if (_circuits.TryGetValue(target.DestinationId, out var circuit))
        {
            return circuit;
        }

        return _circuits.GetOrAdd(target.DestinationId, static (id, state) =>
            new TargetCircuit(id, state.model.Name, state.target.Provider.Name, LabelOf(state.model.Name, id), state.model.Failover.Health), (model, target));
    }

    // Counts the transition and keeps Any up to date: a circuit is counted while it is not closed or holds the target.
    // The state is read under the same lock as the count is changed, so the last caller leaves them matching.
    private void Transitioned(TargetCircuit circuit, TargetCircuitState? moved, DateTimeOffset now)
    {
        if (moved is { } state)
        {
            _metrics?.CircuitTransition(circuit.Model, circuit.Provider, circuit.Label, Name(state));
            if (_logger is not null && state != TargetCircuitState.HalfOpen)
            {
                if (state == TargetCircuitState.Open)
                {
                    Log.Opened(_logger, circuit.Label, circuit.Provider);
                }
                else
                {
                    Log.Closed(_logger, circuit.Label, circuit.Provider);
                }
            }
        }

        lock (circuit)
        {
            var unusual = !circuit.IsPlain(now);
            if (circuit.Counted != unusual && _circuits.ContainsKey(circuit.DestinationId))
            {
                circuit.Counted = unusual;
                Interlocked.Add(ref _unusual, unusual ? 1 : -1);
            }
        }
    }

    /// <summary>The state as a label: <c>closed</c>, <c>half_open</c> or <c>open</c>.</summary>
    public static string Name(TargetCircuitState state) => state switch
    {
        TargetCircuitState.Open => "open",
        TargetCircuitState.HalfOpen => "half_open",
        _ => "closed",
    };

    // llmproxy.target.health: one point per target of the current config (1 closed, 0.5 half-open, 0 open).
    private IEnumerable<Measurement<double>> Observe()
    {
        var now = _time.GetUtcNow();
        foreach (var model in _store!.Current.ModelList)
        {
            foreach (var target in model.Targets)
            {
                var value = StateOf(target.DestinationId, now) switch
                {
                    TargetCircuitState.Closed => 1.0,
                    TargetCircuitState.HalfOpen => 0.5,
                    _ => 0.0,
                };
                yield return new Measurement<double>(value, new KeyValuePair<string, object?>("gen_ai.request.model", model.Name),
                    new KeyValuePair<string, object?>("provider", target.Provider.Name), new KeyValuePair<string, object?>("target", LabelOf(model.Name, target.DestinationId)));
            }
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = EventIds.CircuitOpened, Level = LogLevel.Warning, Message = "Target {Target} (provider {Provider}) is out of rotation: its circuit opened")]
        public static partial void Opened(ILogger logger, string target, string provider);

        [LoggerMessage(EventId = EventIds.CircuitClosed, Level = LogLevel.Information, Message = "Target {Target} (provider {Provider}) is back in rotation: its circuit closed")]
        public static partial void Closed(ILogger logger, string target, string provider);
    }
}
