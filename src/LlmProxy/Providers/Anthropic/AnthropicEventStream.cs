using System.Buffers;
using System.Net.ServerSentEvents;

namespace LlmProxy.Providers.Anthropic;

/// <summary>
/// Reads an Anthropic event stream and yields OpenAI SSE bytes, event by event as each arrives (nothing waits for the
/// rest of the stream). Parsing is the BCL's <see cref="SseParser"/>; translation is <see cref="AnthropicStreamTranslator"/>.
/// A <c>ping</c> becomes an SSE comment (it keeps idle connections open), the stream ends after <c>message_stop</c> or an
/// <c>error</c> event, and a failure of the provider's connection surfaces unchanged (the SSE guard turns it into an error event).
/// </summary>
internal sealed class AnthropicEventStream : Stream
{
    private readonly Stream _inner;
    private readonly AnthropicStreamTranslator _translator;
    private readonly ArrayBufferWriter<byte> _pending = new(1024);
    private IAsyncEnumerator<SseItem<byte[]>>? _events;
    private int _offset;
    private bool _ended;

    /// <summary>Wraps the provider's body.</summary>
    public AnthropicEventStream(Stream anthropicSse, AnthropicStreamTranslator translator)
    {
        _inner = anthropicSse;
        _translator = translator;
    }

    /// <inheritdoc/>
    public override bool CanRead => true;

    /// <inheritdoc/>
    public override bool CanSeek => false;

    /// <inheritdoc/>
    public override bool CanWrite => false;

    /// <inheritdoc/>
    public override long Length => throw new NotSupportedException();

    /// <inheritdoc/>
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    /// <inheritdoc/>
    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        while (_offset == _pending.WrittenCount)
        {
            _pending.ResetWrittenCount();
            _offset = 0;
            if (_ended || _translator.Finished)
            {
                return 0;
            }

            _events ??= SseParser.Create(_inner, static (_, data) => data.ToArray()).EnumerateAsync(cancellationToken).GetAsyncEnumerator(cancellationToken);
            if (!await _events.MoveNextAsync())
            {
                _ended = true;
                return 0;
            }

            var item = _events.Current;
            if (item.EventType == "ping")
            {
                ": ping\n\n"u8.CopyTo(_pending.GetSpan(8));
                _pending.Advance(8);
            }
            else
            {
                _translator.Translate(item.Data, _pending);
            }

            if (buffer.IsEmpty)
            {
                // A zero-byte read waits for data without taking any.
                return 0;
            }
        }

        var count = Math.Min(buffer.Length, _pending.WrittenCount - _offset);
        _pending.WrittenSpan.Slice(_offset, count).CopyTo(buffer.Span);
        _offset += count;
        return count;
    }

    /// <inheritdoc/>
    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        => ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    /// <inheritdoc/>
    public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer, offset, count, CancellationToken.None).GetAwaiter().GetResult();

    /// <inheritdoc/>
    public override void Flush()
    {
    }

    /// <inheritdoc/>
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    /// <inheritdoc/>
    public override void SetLength(long value) => throw new NotSupportedException();

    /// <inheritdoc/>
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    /// <inheritdoc/>
    public override async ValueTask DisposeAsync()
    {
        if (_events is not null)
        {
            await _events.DisposeAsync();
        }

        await _inner.DisposeAsync();
        await base.DisposeAsync();
    }

    /// <inheritdoc/>
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _inner.Dispose();
        }

        base.Dispose(disposing);
    }
}
