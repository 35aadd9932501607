namespace LlmProxy.Streaming;

/// <summary>
/// Finds complete SSE events in the bytes a stream reads. The unfinished tail of an event is held until its blank line
/// (and goes in front of the next read); an event larger than the read buffer passes through unheld, its last bytes kept
/// for what it ends with, including a blank line split between two reads.
/// </summary>
internal sealed class SseScanner
{
    private const int OversizedTailBytes = 16 * 1024;
    private byte[] _tail = [];
    private int _tailLength;
    private byte[]? _oversizedTail;
    private int _oversizedTailLength;

    /// <summary>True while an event too large to hold is passing through.</summary>
    public bool InOversizedEvent { get; private set; }

    /// <summary>Moves the held tail to the start of <paramref name="destination"/>; returns its length.</summary>
    public int TakeTail(Span<byte> destination)
    {
        var count = Math.Min(_tailLength, destination.Length);
        _tail.AsSpan(0, count).CopyTo(destination);
        _tail.AsSpan(count, _tailLength - count).CopyTo(_tail);
        _tailLength -= count;
        return count;
    }

    /// <summary>
    /// Scans <paramref name="bytes"/> (the tail taken, then what was read); <paramref name="filled"/> says they fill the
    /// read buffer, so an event without a blank line in them can only pass through unheld.
    /// </summary>
    public SseScan Scan(ReadOnlySpan<byte> bytes, bool filled)
    {
        var passed = 0;
        byte[]? ended = null;
        if (InOversizedEvent)
        {
            var end = StraddledEnd(bytes);
            if (end == 0)
            {
                end = EndOfFirstEvent(bytes);
            }

            if (end == 0)
            {
                // Part of this event already went out: nothing is gained by holding the rest.
                KeepOversizedTail(bytes);
                return new SseScan(bytes.Length, bytes.Length, null, false);
            }

            ended = EndOversizedEvent(bytes[..end]);
            passed = end;
        }

        var eventsEnd = passed + EndOfLastEvent(bytes[passed..]);
        if (eventsEnd == 0 && filled)
        {
            InOversizedEvent = true;
            KeepOversizedTail(bytes);
            return new SseScan(bytes.Length, bytes.Length, null, true);
        }

        Hold(bytes[eventsEnd..]);
        return new SseScan(passed, eventsEnd, ended, false);
    }

    /// <summary>
    /// The provider ended while an event too large to hold was passing through: <paramref name="last"/> (bytes of it not
    /// yet passed) ends it. Returns its last bytes.
    /// </summary>
    public byte[] EndOversizedEvent(ReadOnlySpan<byte> last)
    {
        InOversizedEvent = false;
        var fragment = new byte[_oversizedTailLength + last.Length];
        _oversizedTail.AsSpan(0, _oversizedTailLength).CopyTo(fragment);
        last.CopyTo(fragment.AsSpan(_oversizedTailLength));
        _oversizedTailLength = 0;
        return fragment;
    }

    /// <summary>Forgets the held tail and any event passing through.</summary>
    public void Clear()
    {
        _tailLength = 0;
        _oversizedTailLength = 0;
        InOversizedEvent = false;
    }

    /// <summary>The payload of the event's (first) data line, or empty.</summary>
    public static ReadOnlySpan<byte> DataOf(ReadOnlySpan<byte> sseEvent)
    {
        var at = sseEvent.IndexOf("data:"u8);
        if (at < 0 || (at > 0 && sseEvent[at - 1] != '\n'))
        {
            return [];
        }

        var data = sseEvent[(at + 5)..];
        var lineEnd = data.IndexOfAny((byte)'\r', (byte)'\n');
        return (lineEnd < 0 ? data : data[..lineEnd]).TrimStart((byte)' ');
    }

    /// <summary>Index just after the first blank line (<c>\n\n</c> or <c>\n\r\n</c>), or 0 when there is none.</summary>
    public static int EndOfFirstEvent(ReadOnlySpan<byte> bytes)
    {
        var lf = bytes.IndexOf("\n\n"u8);
        var crlf = bytes.IndexOf("\n\r\n"u8);
        if (lf < 0 && crlf < 0)
        {
            return 0;
        }

        return lf >= 0 && (crlf < 0 || lf <= crlf) ? lf + 2 : crlf + 3;
    }

    /// <summary>Index just after the last blank line, or 0 when there is none.</summary>
    public static int EndOfLastEvent(ReadOnlySpan<byte> bytes)
    {
        var lf = bytes.LastIndexOf("\n\n"u8);
        var crlf = bytes.LastIndexOf("\n\r\n"u8);
        return Math.Max(lf < 0 ? 0 : lf + 2, crlf < 0 ? 0 : crlf + 3);
    }

    /// <summary>
    /// Where the last event the provider left without its blank line splits: before a <c>data: [DONE]</c> line it ran into
    /// (or <paramref name="tail"/>'s length when there is none).
    /// </summary>
    public static int DoneLineIn(ReadOnlySpan<byte> tail)
    {
        var at = tail.IndexOf("data: [DONE]"u8);
        return at == 0 || (at > 0 && tail[at - 1] == '\n') ? at : tail.Length;
    }

    private void Hold(ReadOnlySpan<byte> bytes)
    {
        if (_tail.Length < _tailLength + bytes.Length)
        {
            Array.Resize(ref _tail, Math.Max(1024, (_tailLength + bytes.Length) * 2));
        }

        bytes.CopyTo(_tail.AsSpan(_tailLength));
        _tailLength += bytes.Length;
    }

    // How many bytes at the start of this read finish an oversized event whose blank line began in the bytes already
    // passed on (they ended with "\n" or "\n\r"); 0 when it does not end here.
    private int StraddledEnd(ReadOnlySpan<byte> bytes)
    {
        if (_oversizedTailLength == 0 || bytes.IsEmpty)
        {
            return 0;
        }

        var last = _oversizedTail![_oversizedTailLength - 1];
        var beforeLast = _oversizedTailLength > 1 ? _oversizedTail[_oversizedTailLength - 2] : (byte)0;
        if (last == '\n')
        {
            return bytes[0] == '\n' ? 1 : bytes.StartsWith("\r\n"u8) ? 2 : 0;
        }

        return last == '\r' && beforeLast == '\n' && bytes[0] == '\n' ? 1 : 0;
    }

    // Keeps the last OversizedTailBytes of an event that is passing through unheld.
    private void KeepOversizedTail(ReadOnlySpan<byte> bytes)
    {
        _oversizedTail ??= new byte[OversizedTailBytes];
        if (bytes.Length >= OversizedTailBytes)
        {
            bytes[^OversizedTailBytes..].CopyTo(_oversizedTail);
            _oversizedTailLength = OversizedTailBytes;
            return;
        }

        var keep = Math.Min(_oversizedTailLength, OversizedTailBytes - bytes.Length);
        _oversizedTail.AsSpan(_oversizedTailLength - keep, keep).CopyTo(_oversizedTail);
        bytes.CopyTo(_oversizedTail.AsSpan(keep));
        _oversizedTailLength = keep + bytes.Length;
    }
}
