namespace LlmProxy.Bench;

/// <summary>
/// One proxy in the open-streams mode: its memory idle (after the warm-up, before the streams) and with every stream
/// open (all past their first event), and how the streams ended. MB are 10^6 bytes.
/// </summary>
internal sealed record OpenStreamsProxy
{
    /// <summary>Stable id, as in <see cref="LoadResult.Key"/>.</summary>
    public required string Key { get; init; }

    /// <summary>Name in the tables.</summary>
    public required string Target { get; init; }

    /// <summary>Streams opened at once.</summary>
    public int Streams { get; init; }

    /// <summary>Resident memory (<c>VmRSS</c>) before the streams, in MB.</summary>
    public double IdleRssMb { get; init; }

    /// <summary>Resident memory with every stream open, in MB.</summary>
    public double OpenRssMb { get; init; }

    /// <summary>GC heap after a forced full collection, before the streams, in MB.</summary>
    public double IdleGcHeapMb { get; init; }

    /// <summary>GC heap after a forced full collection with every stream open, in MB.</summary>
    public double OpenGcHeapMb { get; init; }

    /// <summary>(open RSS − idle RSS) / streams, in MB.</summary>
    public double RssMbPerStream { get; init; }

    /// <summary>(open GC heap − idle GC heap) / streams, in KB (10^3 bytes).</summary>
    public double GcHeapKbPerStream { get; init; }

    /// <summary>Seconds from the first request until every stream had its first event (or had failed).</summary>
    public double OpenSeconds { get; init; }

    /// <summary>Streams that had their first event and ended before the open sample was complete (it then does not have all of them open; the goal is 0).</summary>
    public int EndedBeforeSample { get; init; }

    /// <summary>Streams that ended with every byte and <c>data: [DONE]</c>.</summary>
    public int Completed { get; init; }

    /// <summary>Streams that failed (status, length, no <c>[DONE]</c>, an exception); the goal is 0.</summary>
    public int Errors { get; init; }

    public string? FirstError { get; init; }
}
