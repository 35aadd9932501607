namespace LlmProxy.Tests.Fakes;

/// <summary>A provider body that never ends: a prefix, then one byte repeated for ever; counts what it served.</summary>
internal sealed class EndlessStream(byte[] prefix, byte fill) : Stream
{
    /// <summary>Bytes returned so far.</summary>
    public long Served { get; private set; }

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var span = buffer.Span;
        var count = 0;
        while (count < span.Length && Served < prefix.Length)
        {
            span[count++] = prefix[Served++];
        }

        span[count..].Fill(fill);
        Served += span.Length - count;
        return ValueTask.FromResult(span.Length);
    }

    public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
