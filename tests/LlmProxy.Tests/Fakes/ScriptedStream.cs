using System.Text;

namespace LlmProxy.Tests.Fakes;

/// <summary>A provider body: returns each string step in as few reads as the buffer allows; an exception step is thrown.</summary>
internal sealed class ScriptedStream(params object[] script) : Stream
{
    private int _next;
    private byte[] _pending = [];

    /// <summary>True once disposed.</summary>
    public bool Disposed { get; private set; }

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (buffer.IsEmpty)
        {
            return ValueTask.FromResult(0);
        }

        if (_pending.Length == 0)
        {
            if (_next == script.Length)
            {
                return ValueTask.FromResult(0);
            }

            var step = script[_next++];
            if (step is Exception exception)
            {
                return ValueTask.FromException<int>(exception);
            }

            _pending = Encoding.UTF8.GetBytes((string)step);
        }

        var count = Math.Min(_pending.Length, buffer.Length);
        _pending.AsSpan(0, count).CopyTo(buffer.Span);
        _pending = _pending[count..];
        return ValueTask.FromResult(count);
    }

    public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        Disposed = true;
        base.Dispose(disposing);
    }
}
