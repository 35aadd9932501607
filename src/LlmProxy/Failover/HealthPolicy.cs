namespace LlmProxy.Failover;

/// <summary>A model's passive-health settings as loaded (see <see cref="Configuration.HealthConfig"/>): the same for each of its targets.</summary>
public sealed record HealthPolicy
{
    /// <summary>The defaults: 3 failures or 2 throttles open the circuit for 30 s, doubled per failed probe up to 300 s.</summary>
    public static readonly HealthPolicy Default = new()
    {
        FailuresToOpen = 3,
        ThrottlesToOpen = 2,
        Cooldown = TimeSpan.FromSeconds(30),
        MaxCooldown = TimeSpan.FromSeconds(300),
    };

    /// <summary>Consecutive failures that open the circuit.</summary>
    public required int FailuresToOpen { get; init; }

    /// <summary>Consecutive 429s that open the circuit.</summary>
    public required int ThrottlesToOpen { get; init; }

    /// <summary>The first cooldown of an opened circuit.</summary>
    public required TimeSpan Cooldown { get; init; }

    /// <summary>The longest cooldown after failed probes.</summary>
    public required TimeSpan MaxCooldown { get; init; }

    /// <summary>The policy of <paramref name="config"/>.</summary>
    public static HealthPolicy Of(Configuration.HealthConfig config) => new()
    {
        FailuresToOpen = config.FailuresToOpen,
        ThrottlesToOpen = config.ThrottlesToOpen,
        Cooldown = TimeSpan.FromSeconds(config.CooldownSeconds),
        MaxCooldown = TimeSpan.FromSeconds(config.MaxCooldownSeconds),
    };
}
