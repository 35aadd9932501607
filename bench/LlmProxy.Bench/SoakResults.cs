namespace LlmProxy.Bench;

/// <summary>Everything <c>--json</c> writes after a soak (<c>--soak-requests</c>).</summary>
internal sealed record SoakResults
{
    public required string DateUtc { get; init; }

    public required MachineFacts Machine { get; init; }

    /// <summary>The gateway setting's key (<c>llmproxy_memory_limits</c> or <c>llmproxy_redis_limits</c>).</summary>
    public required string Key { get; init; }

    /// <summary>Name of the setting in the tables.</summary>
    public required string Target { get; init; }

    /// <summary>Requests sent (the soak's length).</summary>
    public long Requests { get; init; }

    public int Concurrency { get; init; }

    /// <summary>Requests between two samples.</summary>
    public long SampleEvery { get; init; }

    /// <summary>The growth is measured from the first sample at or after this many requests (the warm-up).</summary>
    public long WarmupRequests { get; init; }

    /// <summary>The sample at 0 requests (after the start-up checks, before any load), then one per <see cref="SampleEvery"/>.</summary>
    public required IReadOnlyList<SoakSample> Samples { get; init; }

    /// <summary>Requests of the sample the growth is measured from.</summary>
    public long BaselineSampleRequests { get; init; }

    /// <summary>Resident memory of the last sample over the baseline sample's, minus 1, in percent.</summary>
    public double RssGrowthPercent { get; init; }

    /// <summary>GC heap (after a forced full collection) of the last sample over the baseline sample's, minus 1, in percent.</summary>
    public double GcHeapGrowthPercent { get; init; }

    /// <summary>The goal: both growths below this, in percent.</summary>
    public double GrowthGoalPercent { get; init; }

    /// <summary>Client errors in the whole soak (the goal is 0).</summary>
    public long ClientErrors { get; init; }

    public string? FirstError { get; init; }

    /// <summary>Wall-clock seconds of the load, samples excluded.</summary>
    public double LoadSeconds { get; init; }

    public required IReadOnlyList<string> Problems { get; init; }
}
