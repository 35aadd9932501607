namespace LlmProxy.Streaming;

/// <summary>How a guarded stream ended.</summary>
internal enum StreamEnd
{
    /// <summary>The provider finished the stream (a finish reason, <c>[DONE]</c>, a terminal event or an error event).</summary>
    Finished,

    /// <summary>The provider closed the stream cleanly without saying it was finished: the client got a truncation error event.</summary>
    Truncated,

    /// <summary>The provider stopped sending (the activity timeout).</summary>
    TimedOut,

    /// <summary>The provider's connection failed.</summary>
    Unreachable,

    /// <summary>An observer stopped the stream (<see cref="EventVerdict.Stop"/>).</summary>
    Stopped,
}
