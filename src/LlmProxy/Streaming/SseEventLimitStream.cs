namespace LlmProxy.Streaming;

/// <summary>
/// Reads an SSE body for a parser that holds a whole line or event in memory (<see cref="System.Net.ServerSentEvents.SseParser"/>):
/// throws <see cref="IOException"/> as soon as one event — the bytes since the last blank line, line endings not
/// counted — grows past <see cref="MaxEventBytes"/>, and never reads further than one byte past it, so a provider that
/// never ends a line cannot make the gateway buffer without limit. The SSE guard ends the client's stream with its error event on that exception.
/// </summary>
internal sealed class SseEventLimitStream : PassThroughStream
{
    /// <summary>The largest event read: 16 MiB, as much as structured-output validation holds.</summary>
    public const long DefaultMaxEventBytes = 16 * 1024 * 1024;

    private long _eventBytes;
    private long _lineBytes;
    private bool _afterCarriageReturn;

    /// <summary>Wraps <paramref name="inner"/> (disposed with this stream).</summary>
    public SseEventLimitStream(Stream inner, long maxEventBytes = DefaultMaxEventBytes)
        : base(inner)
    {
        MaxEventBytes = maxEventBytes;
    }

    /// <summary>The largest event, in bytes without line endings.</summary>
    public long MaxEventBytes { get; }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        // A parser with a large free buffer asks for all of it: never read more than one byte past the limit.
        var room = MaxEventBytes - _eventBytes + 1;
        if (room < buffer.Length)
        {
            buffer = buffer[..(int)room];
        }

        var read = await Inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
        Count(buffer.Span[..read]);
        return read;
    }

    // Event sizes: a line ends at \n, \r or \r\n; an empty line ends the event.
    private void Count(ReadOnlySpan<byte> bytes)
    {
        while (!bytes.IsEmpty)
        {
            var end = bytes.IndexOfAny((byte)'\r', (byte)'\n');
            var content = end < 0 ? bytes.Length : end;
            if (content > 0)
            {
                _lineBytes += content;
                _eventBytes += content;
                _afterCarriageReturn = false;
                if (_eventBytes > MaxEventBytes)
                {
                    throw new IOException($"The provider sent a stream event larger than {MaxEventBytes} bytes.");
                }
            }

            if (end < 0)
            {
                return;
            }

            var terminator = bytes[end];
            if (terminator == '\n' && _afterCarriageReturn)
            {
                // The \n of a \r\n: the line already ended at the \r.
                _afterCarriageReturn = false;
            }
            else
            {
                if (_lineBytes == 0)
                {
                    _eventBytes = 0;
                }

                _lineBytes = 0;
                _afterCarriageReturn = terminator == '\r';
            }

            bytes = bytes[(end + 1)..];
        }
    }
}
