namespace LlmProxy.Configuration;

/// <summary>Gateway-wide settings.</summary>
public sealed record ServerSettings
{
    /// <summary>Largest request body accepted, in bytes; larger bodies get 413.</summary>
    public long MaxRequestBodyBytes { get; init; } = 16 * 1024 * 1024;

    /// <summary>Idle time allowed on an upstream request before it fails with 504.</summary>
    public double UpstreamTimeoutSeconds { get; init; } = 600;

    /// <summary>Loopback port of the simulated provider; 0 picks a free port.</summary>
    public int SimulatorPort { get; init; }
}
