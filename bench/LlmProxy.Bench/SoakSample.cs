namespace LlmProxy.Bench;

/// <summary>
/// One memory sample of the soak, taken with the load paused after <see cref="Requests"/> requests: the gateway's
/// resident memory, then its GC heap after a forced full collection (<see cref="GcHeap"/>), then its resident memory
/// again; and the segment of requests since the previous sample.
/// </summary>
internal sealed record SoakSample
{
    /// <summary>Requests sent so far (successes and errors).</summary>
    public long Requests { get; init; }

    /// <summary>Client errors so far.</summary>
    public long Errors { get; init; }

    /// <summary>Resident memory (<c>VmRSS</c>) before the forced collection, in MB (10^6 bytes).</summary>
    public double RssMb { get; init; }

    /// <summary>GC heap after the forced full collection, every generation together (large and pinned objects included), in MB.</summary>
    public double GcHeapMb { get; init; }

    /// <summary>Large object heap after the forced collection, in MB.</summary>
    public double LargeObjectHeapMb { get; init; }

    /// <summary>Resident memory right after the forced collection, in MB.</summary>
    public double RssAfterGcMb { get; init; }

    /// <summary>Client req/s of the segment before this sample (null for the sample before any load).</summary>
    public double? SegmentRequestsPerSecond { get; init; }

    /// <summary>The gateway's CPU per request in that segment.</summary>
    public double? SegmentProxyCpuUsPerRequest { get; init; }

    /// <summary>Median latency of that segment, in ms.</summary>
    public double? SegmentP50Ms { get; init; }

    /// <summary>p99 latency of that segment, in ms.</summary>
    public double? SegmentP99Ms { get; init; }
}
