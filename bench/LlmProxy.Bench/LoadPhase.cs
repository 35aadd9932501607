namespace LlmProxy.Bench;

/// <summary>One set of interleaved non-streamed rounds.</summary>
/// <param name="RateRequestsPerSecond">The fixed rate of every run; null for closed loop.</param>
/// <param name="Results">Per target, all rounds together.</param>
/// <param name="CpuRatioLlmProxyOverYarp">LlmProxy (metering on) CPU per request divided by bare YARP's, all rounds together.</param>
/// <param name="CpuRatioPerRound">The same ratio round by round.</param>
/// <param name="MeteringCpuRatioOnOverOff">LlmProxy CPU per request with metering on divided by the same with metering off.</param>
/// <param name="MeteringCpuRatioPerRound">The same ratio round by round.</param>
/// <param name="LimitsCpuRatioOverYarp">LlmProxy with Redis limits: the proxy's CPU per request divided by bare YARP's (redis-server's CPU not counted).</param>
/// <param name="LimitsThroughputShare">LlmProxy with Redis limits: req/s divided by LlmProxy with limits off (metering on).</param>
/// <param name="BaselineCpuRatio">With <c>--baseline</c>: LlmProxy (metering on) CPU per request divided by the baseline build's.</param>
/// <param name="BaselineCpuRatioPerRound">The same ratio round by round; null without <c>--baseline</c>.</param>
/// <param name="Failover">The failover setting beside LlmProxy (metering on); null when it did not run.</param>
internal sealed record LoadPhase(double? RateRequestsPerSecond, IReadOnlyList<LoadResult> Results, double? CpuRatioLlmProxyOverYarp,
    IReadOnlyList<double?> CpuRatioPerRound, double? MeteringCpuRatioOnOverOff, IReadOnlyList<double?> MeteringCpuRatioPerRound,
    double? LimitsCpuRatioOverYarp, double? LimitsThroughputShare, double? BaselineCpuRatio = null, IReadOnlyList<double?>? BaselineCpuRatioPerRound = null,
    FailoverFacts? Failover = null)
{
    /// <summary>LlmProxy (in-memory limits): CPU per request divided by bare YARP's, all rounds together (issue 13: at most 1.2x in the closed loop).</summary>
    public double? MemoryLimitsCpuRatioOverYarp { get; init; }

    /// <summary>The same ratio round by round (empty when the target did not run).</summary>
    public IReadOnlyList<double?> MemoryLimitsCpuRatioPerRound { get; init; } = [];

    /// <summary>LlmProxy (Redis limits), the proxy's CPU alone (<see cref="LimitsCpuRatioOverYarp"/>) round by round.</summary>
    public IReadOnlyList<double?> LimitsCpuRatioPerRound { get; init; } = [];

    /// <summary>
    /// LlmProxy (Redis limits) with redis-server's CPU counted: (proxy CPU + Redis CPU) per request divided by bare YARP's
    /// CPU per request, all rounds together (issue 13: at most 1.5x in the closed loop).
    /// </summary>
    public double? LimitsWithRedisCpuRatioOverYarp { get; init; }

    /// <summary>The same ratio round by round (empty when the target did not run).</summary>
    public IReadOnlyList<double?> LimitsWithRedisCpuRatioPerRound { get; init; } = [];

    /// <summary>A phase that did not run (<c>--equal-load-only</c> leaves out the closed loop).</summary>
    public static LoadPhase Empty { get; } = new(null, [], null, [], null, [], null, null);
}
