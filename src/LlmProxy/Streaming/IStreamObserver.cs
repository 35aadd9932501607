namespace LlmProxy.Streaming;

/// <summary>
/// Watches the events of a stream passing through <see cref="EventStreamGuard"/>, in order, as soon as each is complete.
/// Observers are asked in turn; the first that does not pass an event decides what happens to it.
/// </summary>
internal interface IStreamObserver
{
    /// <summary>
    /// One complete event, with its blank line (<paramref name="sseEvent"/>), and the payload of its first data line
    /// (<paramref name="data"/>, empty for comments and keep-alives). Frames written to <paramref name="outbox"/> go out
    /// before this event and everything after it.
    /// </summary>
    EventVerdict OnEvent(ReadOnlySpan<byte> sseEvent, ReadOnlySpan<byte> data, SseOutbox outbox);

    /// <summary>
    /// An event too large to hold ended: it went through unseen, and <paramref name="tail"/> holds its last bytes
    /// (where a Responses API <c>response.completed</c> carries its usage).
    /// </summary>
    void OnOversizedEvent(ReadOnlySpan<byte> tail);

    /// <summary>
    /// The provider closed the stream cleanly, after its last event. Frames written to <paramref name="outbox"/> go out
    /// before the guard's closing (<c>[DONE]</c> or the truncation error event); <see cref="EventVerdict.Stop"/> ends the
    /// stream with them instead.
    /// </summary>
    EventVerdict OnProviderEnd(SseOutbox outbox);

    /// <summary>
    /// The provider failed mid-stream. Returns true when the observer answered the client itself (a response that has not
    /// started gets a JSON error); otherwise the guard ends the stream with an SSE error event.
    /// </summary>
    ValueTask<bool> OnProviderFailureAsync(StreamEnd failure);

    /// <summary>The stream is over; nothing more will be read.</summary>
    void OnStreamEnd(StreamEnd end);
}
