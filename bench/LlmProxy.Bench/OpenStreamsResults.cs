namespace LlmProxy.Bench;

/// <summary>Everything <c>--json</c> writes after the open-streams mode (<c>--open-streams</c>).</summary>
internal sealed record OpenStreamsResults
{
    public required string DateUtc { get; init; }

    public required MachineFacts Machine { get; init; }

    /// <summary>Streams held open at once through each proxy.</summary>
    public int Streams { get; init; }

    /// <summary>How long each stream lasts after its first event, in seconds.</summary>
    public double StreamSeconds { get; init; }

    /// <summary>Seconds between two chunks of a stream.</summary>
    public double ChunkSeconds { get; init; }

    /// <summary>LlmProxy (in-memory limits), then bare YARP.</summary>
    public required IReadOnlyList<OpenStreamsProxy> Proxies { get; init; }

    /// <summary>LlmProxy's RSS per open stream divided by bare YARP's (null when either is not above 0, as with few streams).</summary>
    public double? RssPerStreamRatioOverYarp { get; init; }

    public required IReadOnlyList<string> Problems { get; init; }
}
