namespace LlmProxy.Bench;

internal sealed record LoadResult
{
    /// <summary>Stable id: <c>direct</c>, <c>yarp</c>, <c>llmproxy</c> (metering on) or <c>llmproxy_metering_off</c>.</summary>
    public required string Key { get; init; }

    /// <summary>Name in the tables.</summary>
    public required string Target { get; init; }

    public long Requests { get; init; }

    public long Errors { get; init; }

    public long WarmupErrors { get; init; }

    public double RequestsPerSecond { get; init; }

    public double P50Ms { get; init; }

    public double P90Ms { get; init; }

    public double P99Ms { get; init; }

    public double MaxMs { get; init; }

    /// <summary>CPU time of the proxy process per request (null for direct).</summary>
    public double? ProxyCpuUsPerRequest { get; init; }

    public double? CpuRatioVsYarp { get; init; }

    /// <summary>CPU time of the fake upstream per request (should be about the same for every target).</summary>
    public double UpstreamCpuUsPerRequest { get; init; }

    /// <summary>CPU µs per request of the target's helper server (Redis), when it has one.</summary>
    public double? SidecarCpuUsPerRequest { get; init; }

    /// <summary>CPU time of the driver per request (the load generator).</summary>
    public double ClientCpuUsPerRequest { get; init; }

    public required IReadOnlyList<double> RoundRequestsPerSecond { get; init; }

    public required IReadOnlyList<double?> RoundProxyCpuUsPerRequest { get; init; }

    public string? FirstError { get; init; }

    /// <summary>Average share of the machine's processors used by processes outside the bench during the runs.</summary>
    public double? OtherProcessesCpuShare { get; init; }
}
