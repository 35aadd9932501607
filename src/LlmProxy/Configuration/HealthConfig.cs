namespace LlmProxy.Configuration;

/// <summary>
/// Passive health of a model's targets: when a target's circuit opens (it is then skipped), how long it stays open, and
/// how far a failed probe lengthens that.
/// </summary>
public sealed record HealthConfig
{
    /// <summary>Consecutive failures (5xx, 408, 529, a connect failure or reset, a first-byte timeout, a stream cut) that open the circuit.</summary>
    public int FailuresToOpen { get; init; } = 3;

    /// <summary>Consecutive 429s that open the circuit.</summary>
    public int ThrottlesToOpen { get; init; } = 2;

    /// <summary>How long an opened circuit keeps the target out before one probe request is let through (at least the provider's Retry-After).</summary>
    public double CooldownSeconds { get; init; } = 30;

    /// <summary>The longest cooldown: each failed probe doubles the last one, up to this.</summary>
    public double MaxCooldownSeconds { get; init; } = 300;
}
