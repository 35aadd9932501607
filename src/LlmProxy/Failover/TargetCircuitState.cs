namespace LlmProxy.Failover;

/// <summary>Where a target's circuit stands (see <see cref="TargetHealth"/>).</summary>
public enum TargetCircuitState
{
    /// <summary>In rotation.</summary>
    Closed,

    /// <summary>The cooldown is over: one probe request is let through; its outcome closes or reopens the circuit.</summary>
    HalfOpen,

    /// <summary>Out of rotation until the cooldown ends.</summary>
    Open,
}
