namespace LlmProxy.Streaming;

/// <summary>What an <see cref="IStreamObserver"/> says about one complete SSE event.</summary>
internal enum EventVerdict
{
    /// <summary>The event goes to the client now (after anything the observer wrote to the outbox).</summary>
    Pass,

    /// <summary>The event is left out (the usage chunk the gateway asked for on the client's behalf).</summary>
    Drop,

    /// <summary>The guard keeps the event, in order, until an observer releases what is held (or the stream ends).</summary>
    Hold,

    /// <summary>
    /// The stream ends here: neither this event nor anything after it goes out, what is held is discarded, and only what
    /// the observers wrote to the outbox is sent. The provider's connection is then dropped.
    /// </summary>
    Stop,
}
