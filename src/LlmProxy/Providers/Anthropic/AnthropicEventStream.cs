using System.Buffers;
using System.Net.ServerSentEvents;
using LlmProxy.Hosting;
using LlmProxy.Streaming;

namespace LlmProxy.Providers.Anthropic;

/// <summary>
/// A provider's Anthropic SSE body read as OpenAI chat-completion SSE. Each read returns the frames of the next
/// complete Anthropic event as soon as it has arrived (parsed by <see cref="SseParser"/>); a frame longer than the
/// caller's buffer is kept and returned over several reads. A <c>ping</c> event becomes the comment <c>: ping</c>.
/// Exceptions of the inner stream propagate unchanged; when it ends the stream ends (no finish is invented). An event
/// larger than <see cref="SseEventLimitStream.DefaultMaxEventBytes"/> or one the translator cannot read is an
/// <see cref="IOException"/>, which the SSE guard turns into its error event like any failure of the provider's stream.
/// However the stream ends — <c>message_stop</c>, a clean close, an <c>error</c> event, an exception, disposal when the
/// client left — the usage the translator knows goes to the request's meter if nothing reached it yet (see
/// <see cref="ReportUsage"/>).
/// </summary>
internal sealed class AnthropicEventStream : PassThroughStream
{
    private readonly ReadTokenStream _source;
    private readonly AnthropicStreamTranslator _translator;
    private readonly LlmRequestFeature? _feature;
    private readonly SseParser<bool> _parser;
    private readonly ArrayBufferWriter<byte> _pending = new(4096);
    private IAsyncEnumerator<SseItem<bool>>? _events;
    private int _offset;
    private bool _ended;
    private bool _unreadable;
    private bool _reported;

    /// <summary>
    /// Wraps <paramref name="anthropicSse"/> (disposed with this stream); <paramref name="translator"/> is this stream's
    /// own; <paramref name="feature"/>, when metered, gets the translator's usage when the stream ends.
    /// </summary>
    public AnthropicEventStream(Stream anthropicSse, AnthropicStreamTranslator translator, LlmRequestFeature? feature = null,
        long maxEventBytes = SseEventLimitStream.DefaultMaxEventBytes)
        : base(anthropicSse)
    {
        _source = new ReadTokenStream(new SseEventLimitStream(anthropicSse, maxEventBytes));
        _translator = translator;
        _feature = feature;
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
            bool more;
            try
            {
                more = await _events.MoveNextAsync().ConfigureAwait(false);
            }
            catch
            {
                // The provider's stream failed (or was too large to read): the exact usage seen so far is not lost.
                _ended = true;
                _pending.ResetWrittenCount();
                ReportUsage();
                throw;
            }

            if (_unreadable)
            {
                _ended = true;
                _pending.ResetWrittenCount();
                ReportUsage();
                throw new IOException("The provider sent a stream event the gateway cannot read (a string that cannot be decoded).");
            }

            if (!more)
            {
                _ended = true;
                _translator.End(_pending);
            }

            if (_translator.Finished)
            {
                ReportUsage();
            }
        }

        var count = Math.Min(buffer.Length, _pending.WrittenCount - _offset);
        _pending.WrittenSpan.Slice(_offset, count).CopyTo(buffer.Span);
        _offset += count;
        return count;
    }

    public override async ValueTask DisposeAsync()
    {
        ReportUsage();
        if (_events is not null)
        {
            await _events.DisposeAsync().ConfigureAwait(false);
            _events = null;
        }

        await base.DisposeAsync().ConfigureAwait(false);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            // YARP disposes the body when the copy ends, also when the client left mid-stream.
            ReportUsage();
        }

        base.Dispose(disposing);
    }

    /// <summary>
    /// Once, when the stream ends: hands the usage the translator knows to a metered request that has none yet (the
    /// usage chunk of <c>message_stop</c> or of a clean cut, read by the meter, comes first). Input and cached input are
    /// exact from <c>message_start</c>; output is exact only when a <c>message_delta</c> reported it, else left unknown
    /// so that metering estimates it from the text that passed (and marks the usage estimated).
    /// </summary>
    private void ReportUsage()
    {
        if (_reported || _feature is not { Metered: true } feature || !_translator.InputKnown)
        {
            return;
        }

        _reported = true;
        if (feature.InputTokens is not null || feature.OutputTokens is not null)
        {
            return;
        }

        var usage = _translator.Usage;
        feature.SetUsage(usage.Input, _translator.OutputKnown ? usage.Output : null, usage.CachedInput, usage.Reasoning);
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
        else if (!_translator.Translate(eventType, data, _pending))
        {
            _unreadable = true;
        }

        return true;
    }
}
