using HdrHistogram;

namespace LlmProxy.Bench;

/// <summary>Result of one closed-loop run against one target.</summary>
internal sealed class LoadRun
{
    /// <summary>Requests that completed with 200 and the whole body inside the measured window.</summary>
    public long Requests { get; init; }

    /// <summary>Failed requests inside the measured window.</summary>
    public long Errors { get; init; }

    /// <summary>Failed requests during the warm-up.</summary>
    public long WarmupErrors { get; init; }

    /// <summary>The first failure seen, for the message.</summary>
    public string? FirstError { get; init; }

    /// <summary>Length of the measured window.</summary>
    public TimeSpan Elapsed { get; init; }

    /// <summary>CPU time of the proxy process in the window (null for direct).</summary>
    public TimeSpan? ProxyCpu { get; init; }

    /// <summary>CPU time of the target's helper server (Redis) in the window; null when it has none.</summary>
    public TimeSpan? SidecarCpu { get; init; }

    /// <summary>CPU time of the fake upstream in the window.</summary>
    public TimeSpan UpstreamCpu { get; init; }

    /// <summary>CPU time of the driver (the client) in the window.</summary>
    public TimeSpan ClientCpu { get; init; }

    /// <summary>
    /// CPU time used in the window by processes other than the driver and its servers (from <c>/proc/stat</c>;
    /// null when unknown). A busy neighbour makes the run noisy.
    /// </summary>
    public TimeSpan? OtherCpu { get; init; }

    /// <summary>Share of the machine's processors used by other processes in the window, 0 to 1.</summary>
    public double? OtherCpuShare => OtherCpu is { } other ? Math.Max(0, other.TotalSeconds) / (Elapsed.TotalSeconds * Environment.ProcessorCount) : null;

    /// <summary>Latency of the counted requests, in nanoseconds.</summary>
    public required LongHistogram Latency { get; init; }

    public double RequestsPerSecond => Requests / Elapsed.TotalSeconds;

    public double? ProxyCpuMicrosPerRequest => ProxyCpu is { } cpu && Requests > 0 ? cpu.TotalMicroseconds / Requests : null;

    /// <summary>The proxy's and its helper server's (Redis) CPU time per request together; the proxy's alone without a helper.</summary>
    public double? ProxyAndSidecarCpuMicrosPerRequest => ProxyCpu is { } cpu && Requests > 0 ? (cpu + (SidecarCpu ?? TimeSpan.Zero)).TotalMicroseconds / Requests : null;
}
