namespace LlmProxy.Streaming;

/// <summary>
/// Where the complete events are in bytes just read (see <see cref="SseScanner.Scan"/>): <c>bytes[..Passed]</c> belong to
/// an event too large to hold and pass as they are, <c>bytes[Passed..EventsEnd]</c> are whole events, and the rest is held
/// by the scanner until its blank line.
/// </summary>
/// <param name="Passed">Bytes at the start that pass as they are.</param>
/// <param name="EventsEnd">The end of the last whole event.</param>
/// <param name="OversizedTail">The last bytes of an event too large to hold that ended in these bytes, else null.</param>
/// <param name="OversizedStarted">True when these bytes are the start of an event too large to hold (all of them pass).</param>
internal readonly record struct SseScan(int Passed, int EventsEnd, byte[]? OversizedTail, bool OversizedStarted);
