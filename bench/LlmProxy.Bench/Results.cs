namespace LlmProxy.Bench;

/// <summary>Everything <c>--json</c> writes.</summary>
internal sealed record BenchResults
{
    public required string DateUtc { get; init; }

    public required MachineFacts Machine { get; init; }

    public required SettingsFacts Settings { get; init; }

    /// <summary>Non-streamed rounds as fast as each target can go: throughput and latency.</summary>
    public required LoadPhase ClosedLoop { get; init; }

    /// <summary>Non-streamed rounds at one fixed rate for every proxy: CPU per request at equal load.</summary>
    public required LoadPhase EqualLoad { get; init; }

    public required IReadOnlyList<StreamResult> Streaming { get; init; }

    /// <summary>The paired phase (<c>--paired-rounds</c>); null when it did not run.</summary>
    public PairedPhase? Paired { get; init; }

    /// <summary>LlmProxy (metering on) median time to first event minus bare YARP's, in ms.</summary>
    public double? TtftAddedVsYarpMs { get; init; }

    /// <summary>LlmProxy (metering on) median time to first event minus direct's, in ms.</summary>
    public double? TtftAddedVsDirectMs { get; init; }

    public required IReadOnlyList<string> Problems { get; init; }
}

/// <summary>One set of interleaved non-streamed rounds.</summary>
/// <param name="RateRequestsPerSecond">The fixed rate of every run; null for closed loop.</param>
/// <param name="Results">Per target, all rounds together.</param>
/// <param name="CpuRatioLlmProxyOverYarp">LlmProxy (metering on) CPU per request divided by bare YARP's, all rounds together.</param>
/// <param name="CpuRatioPerRound">The same ratio round by round.</param>
/// <param name="MeteringCpuRatioOnOverOff">LlmProxy CPU per request with metering on divided by the same with metering off.</param>
/// <param name="MeteringCpuRatioPerRound">The same ratio round by round.</param>
/// <param name="LimitsCpuRatioOverYarp">LlmProxy with Redis limits: CPU per request divided by bare YARP's.</param>
/// <param name="LimitsThroughputShare">LlmProxy with Redis limits: req/s divided by LlmProxy with limits off (metering on).</param>
/// <param name="BaselineCpuRatio">With <c>--baseline</c>: LlmProxy (metering on) CPU per request divided by the baseline build's.</param>
/// <param name="BaselineCpuRatioPerRound">The same ratio round by round; null without <c>--baseline</c>.</param>
internal sealed record LoadPhase(double? RateRequestsPerSecond, IReadOnlyList<LoadResult> Results, double? CpuRatioLlmProxyOverYarp,
    IReadOnlyList<double?> CpuRatioPerRound, double? MeteringCpuRatioOnOverOff, IReadOnlyList<double?> MeteringCpuRatioPerRound,
    double? LimitsCpuRatioOverYarp, double? LimitsThroughputShare, double? BaselineCpuRatio = null, IReadOnlyList<double?>? BaselineCpuRatioPerRound = null)
{
    /// <summary>A phase that did not run (<c>--equal-load-only</c> leaves out the closed loop).</summary>
    public static LoadPhase Empty { get; } = new(null, [], null, [], null, [], null, null);
}

internal sealed record MachineFacts(int ProcessorCount, string Cpu, string Os, string Architecture, string Runtime, bool DriverServerGc);

internal sealed record SettingsFacts(int Rounds, double Seconds, double WarmupSeconds, int Concurrency, int StreamSamples, int StreamWarmup,
    int RequestBytes, int ResponseBytes, int StreamBytes);

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

internal sealed record StreamResult
{
    /// <summary>Stable id, as in <see cref="LoadResult.Key"/>.</summary>
    public required string Key { get; init; }

    /// <summary>Name in the tables.</summary>
    public required string Target { get; init; }

    public int Samples { get; init; }

    public int Errors { get; init; }

    public double MinMs { get; init; }

    public double MedianMs { get; init; }

    public double P90Ms { get; init; }

    public double P99Ms { get; init; }

    public double MeanMs { get; init; }

    public string? FirstError { get; init; }
}
