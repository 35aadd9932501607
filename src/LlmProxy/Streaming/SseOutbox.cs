namespace LlmProxy.Streaming;

/// <summary>
/// What a guarded stream sends ahead of the provider's next events: frames the observers write (a verdict, an error
/// event, <c>[DONE]</c>), and the events held for them (<see cref="EventVerdict.Hold"/>) until they are released.
/// Its buffers are made only when first used: a stream no observer writes to allocates nothing here.
/// </summary>
internal sealed class SseOutbox
{
    private byte[] _queue = [];
    private int _start;
    private int _length;
    private byte[] _held = [];
    private int _heldLength;

    /// <summary>True when bytes wait to go out.</summary>
    public bool HasPending => _length > 0;

    /// <summary>Bytes of the events held so far.</summary>
    public int HeldBytes => _heldLength;

    /// <summary>Queues bytes to go out, after what is already queued.</summary>
    public void Write(ReadOnlySpan<byte> bytes)
    {
        if (bytes.IsEmpty)
        {
            return;
        }

        if (_queue.Length - _start - _length < bytes.Length)
        {
            Grow(ref _queue, _start, _length, _length + bytes.Length);
            _start = 0;
        }

        bytes.CopyTo(_queue.AsSpan(_start + _length));
        _length += bytes.Length;
    }

    /// <summary>Queues the held events (in the order they came), then holds nothing.</summary>
    public void ReleaseHeld()
    {
        Write(_held.AsSpan(0, _heldLength));
        _heldLength = 0;
    }

    /// <summary>Keeps an event until <see cref="ReleaseHeld"/>.</summary>
    internal void Hold(ReadOnlySpan<byte> sseEvent)
    {
        if (_held.Length - _heldLength < sseEvent.Length)
        {
            Grow(ref _held, 0, _heldLength, _heldLength + sseEvent.Length);
        }

        sseEvent.CopyTo(_held.AsSpan(_heldLength));
        _heldLength += sseEvent.Length;
    }

    /// <summary>Moves as many queued bytes as fit into <paramref name="destination"/>; returns how many.</summary>
    internal int Take(Span<byte> destination)
    {
        var count = Math.Min(_length, destination.Length);
        _queue.AsSpan(_start, count).CopyTo(destination);
        _start += count;
        _length -= count;
        if (_length == 0)
        {
            _start = 0;
        }

        return count;
    }

    /// <summary>Forgets what is held.</summary>
    internal void DiscardHeld() => _heldLength = 0;

    /// <summary>Forgets everything.</summary>
    internal void Clear()
    {
        _start = 0;
        _length = 0;
        _heldLength = 0;
    }

    // Moves buffer[start..start+length] to the start of a buffer of at least `needed` bytes.
    private static void Grow(ref byte[] buffer, int start, int length, int needed)
    {
        var target = buffer.Length >= needed ? buffer : new byte[Math.Max(1024, needed * 2)];
        buffer.AsSpan(start, length).CopyTo(target);
        buffer = target;
    }
}
