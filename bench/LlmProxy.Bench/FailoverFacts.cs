namespace LlmProxy.Bench;

/// <summary>
/// The failover setting in one phase (<see cref="GatewayMode.Failover"/>: the bench model with two targets, one failing one
/// request in five with 503), next to LlmProxy (metering on, one target) measured in the same rounds.
/// </summary>
internal sealed record FailoverFacts
{
    /// <summary>Requests the client counted as answered in the measured windows.</summary>
    public long ClientRequests { get; init; }

    /// <summary>Requests that reached the client as an error (or a wrong body), in the measured windows and warm-ups; the goal is 0.</summary>
    public long ClientErrors { get; init; }

    /// <summary>The gateway's attempts during the failover runs (warm-ups included), by outcome, from <c>/metrics</c>.</summary>
    public required IReadOnlyDictionary<string, long> AttemptsByOutcome { get; init; }

    /// <summary>Failed attempts (retried on the other target) per client request: about 0.1 (half the requests go first to the failing target, a fifth of those fail).</summary>
    public double? RetriedShare { get; init; }

    /// <summary>p50 latency of the failover setting minus LlmProxy (metering on), in ms.</summary>
    public double AddedP50Ms { get; init; }

    /// <summary>p90 latency difference, in ms (about a tenth of the requests are retried: they show here and at p99).</summary>
    public double AddedP90Ms { get; init; }

    /// <summary>p99 latency difference, in ms.</summary>
    public double AddedP99Ms { get; init; }

    /// <summary>Proxy CPU per client request of the failover setting divided by LlmProxy (metering on), all rounds together.</summary>
    public double? CpuRatioOverMeteringOn { get; init; }

    /// <summary>The same ratio round by round.</summary>
    public required IReadOnlyList<double?> CpuRatioPerRound { get; init; }
}
