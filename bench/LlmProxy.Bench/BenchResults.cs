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

    /// <summary>LlmProxy (in-memory limits) median time to first event minus bare YARP's, in ms (issue 13: at most +0.2 ms).</summary>
    public double? TtftAddedVsYarpMemoryLimitsMs { get; init; }

    /// <summary>LlmProxy (Redis limits) median time to first event minus bare YARP's, in ms.</summary>
    public double? TtftAddedVsYarpRedisLimitsMs { get; init; }

    /// <summary>LlmProxy (metering on) median time to first event minus direct's, in ms.</summary>
    public double? TtftAddedVsDirectMs { get; init; }

    public required IReadOnlyList<string> Problems { get; init; }
}
