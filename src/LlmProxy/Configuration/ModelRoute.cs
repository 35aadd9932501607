namespace LlmProxy.Configuration;

/// <summary>A public model as loaded: its YARP cluster and its targets.</summary>
public sealed class ModelRoute
{
    /// <summary>The public (canonical) model name.</summary>
    public required string Name { get; init; }

    /// <summary>The YARP cluster id that holds this model's targets.</summary>
    public required string ClusterId { get; init; }

    /// <summary>The enabled targets (at least one).</summary>
    public required ModelTarget[] Targets { get; init; }

    /// <summary>How requests are spread over the targets (the YARP cluster's load-balancing policy).</summary>
    public BalancingStrategy Strategy { get; init; }

    /// <summary>True when the targets are not all of one <see cref="ModelTarget.Priority"/>: the policies then keep to the best tier available.</summary>
    public bool Tiered { get; init; }

    /// <summary>
    /// True when each attempt's time to first token and outcome are recorded (<see cref="Routing.TargetStats"/>): under
    /// <c>latency</c> with more than one target. Nothing is measured for a single target, or for another strategy.
    /// </summary>
    public bool TracksLatency { get; init; }

    /// <summary>Other public names.</summary>
    public required string[] Aliases { get; init; }

    /// <summary>Upstream idle timeout.</summary>
    public required TimeSpan Timeout { get; init; }

    /// <summary>Time allowed for connecting to a provider of this model.</summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(SnapshotBuilder.DefaultConnectTimeoutSeconds);

    /// <summary>Attempts, waits, time limits and fallbacks of one client request.</summary>
    public required Failover.FailoverPlan Failover { get; init; }

    /// <summary>Unix time the model was loaded, reported as <c>created</c> by /v1/models.</summary>
    public required long Created { get; init; }
}
