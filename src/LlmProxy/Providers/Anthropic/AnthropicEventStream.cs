using System.Buffers;
using System.Net.ServerSentEvents;
using LlmProxy.Streaming;

namespace LlmProxy.Providers.Anthropic;

/// <summary>
/// A provider's Anthropic SSE body read as OpenAI chat-completion SSE. Each read returns the frames of the next
/// complete Anthropic event as soon as it has arrived (parsed by <see cref="SseParser"/>); a frame longer than the
/// caller's buffer is kept and returned over several reads. A <c>ping</c> event becomes the comment <c>: ping</c>.
/// Exceptions of the inner stream propagate unchanged; when it ends the stream ends (no finish is invented).
/// </summary>
internal sealed class AnthropicEventStream : PassThroughStream
{

    private readonly ReadTokenStream _source;
    private readonly AnthropicStreamTranslator _translator;
    private readonly SseParser<bool> _parser;
    private readonly ArrayBufferWriter<byte> _pending = new(4096);
    private IAsyncEnumerator<SseItem<bool>>? _events;
    private int _offset;
    private bool _ended;

    /// <summary>Wraps <paramref name="anthropicSse"/> (disposed with this stream); <paramref name="translator"/> is this stream's own.</summary>
    public AnthropicEventStream(Stream anthropicSse, AnthropicStreamTranslator translator)
        : base(anthropicSse)
    {
        _source = new ReadTokenStream(anthropicSse);
        _translator = translator;
        _parser = SseParser.Create(_source, OnEvent);
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (buffer.IsEmpty)
        {
            return 0;
        }

        while (_offset == _pending.WrittenCount)
        {
            _pending.ResetWrittenCount();
            _offset = 0;
            if (_ended)
            {
                return 0;
            }

            _source.ReadToken = cancellationToken;
            _events ??= _parser.EnumerateAsync().GetAsyncEnumerator(CancellationToken.None);
            if (!await _events.MoveNextAsync().ConfigureAwait(false))
            {
                _ended = true;
                _translator.End(_pending);
            }
        }

        var count = Math.Min(buffer.Length, _pending.WrittenCount - _offset);
        _pending.WrittenSpan.Slice(_offset, count).CopyTo(buffer.Span);
        _offset += count;
        return count;
    }

    public override async ValueTask DisposeAsync()
    {
        if (_events is not null)
        {
            await _events.DisposeAsync().ConfigureAwait(false);
            _events = null;
        }

        await base.DisposeAsync().ConfigureAwait(false);
    }

    /// <summary>Runs inside the parser while the event's data is valid: translates it into the pending frames.</summary>
    private bool OnEvent(string eventType, ReadOnlySpan<byte> data)
    {
        if (eventType == "ping")
        {
            if (!_translator.Finished)
            {
                _pending.Write(SseFrames.KeepAlive);
            }
        }
        else
        {
            _translator.Translate(eventType, data, _pending);
        }

        return true;
    }
}
