using System.Buffers;
using System.Text.Json;
using LlmProxy.Errors;
using LlmProxy.Streaming;

namespace LlmProxy.Failover;

/// <summary>
/// Passes a continuation's stream (OpenAI chunks, after its translator and guard) on to the client's, so that the
/// client receives one answer: every chunk is written again with the id, model and creation time the client saw
/// first; the continuation's opening role chunk is dropped. After a prefill the continuation's text follows what was
/// delivered; after a restart the text that repeats what was delivered is held back and only what follows it passes —
/// a restarted answer that differs from what the client has ends the stream with an error event (the client is never
/// sent text that contradicts what it holds). Text that passes is added to the <see cref="StreamTranscript"/>, so a
/// continuation that fails too can be continued again.
/// </summary>
internal sealed class StreamSplicer : Stream
{
    private readonly Stream _client;
    private readonly StreamTranscript _transcript;
    private readonly ArrayBufferWriter<byte> _pending = new(1024);
    private readonly ArrayBufferWriter<byte> _output = new(1024);
    private readonly int _behind;
    private byte[] _trimmed;
    private int _matched;

    /// <summary>Splices into <paramref name="client"/>; <paramref name="trimmed"/> is whitespace cut from the end of a prefill (a continuation that starts with it has it dropped).</summary>
    public StreamSplicer(Stream client, StreamTranscript transcript, bool restart, byte[] trimmed)
    {
        _client = client;
        _transcript = transcript;
        _trimmed = trimmed;
        // A restart repeats what the client has: that many bytes are compared and held back.
        _behind = restart ? transcript.Text.Length : 0;
    }

    /// <summary>True once anything of the continuation reached the client.</summary>
    public bool Passed { get; private set; }

    /// <summary>True when the continuation finished the answer (a finish reason or <c>[DONE]</c>) or ended it with an error event of its own.</summary>
    public bool Ended { get; private set; }

    /// <summary>True when a restarted answer differed from what the client has (the stream ended with an error event).</summary>
    public bool Diverged { get; private set; }

    /// <inheritdoc/>
    public override bool CanRead => false;

    /// <inheritdoc/>
    public override bool CanSeek => false;

    /// <inheritdoc/>
    public override bool CanWrite => true;

    /// <inheritdoc/>
    public override long Length => throw new NotSupportedException();

    /// <inheritdoc/>
    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    /// <inheritdoc/>
    public override void Flush()
    {
    }

    /// <inheritdoc/>
    public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <inheritdoc/>
    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    /// <inheritdoc/>
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    /// <inheritdoc/>
    public override void SetLength(long value) => throw new NotSupportedException();

    /// <inheritdoc/>
    public override void Write(byte[] buffer, int offset, int count) => WriteAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    /// <inheritdoc/>
    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        => WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    /// <inheritdoc/>
    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (Diverged)
        {
            throw new IOException("The continuation diverged from the answer the client has.");
        }

        _pending.Write(buffer.Span);
        _output.ResetWrittenCount();
        var consumed = Splice(_pending.WrittenSpan);
        var rest = _pending.WrittenSpan[consumed..].ToArray();
        _pending.ResetWrittenCount();
        _pending.Write(rest);
        if (_output.WrittenCount > 0)
        {
            // The client's own stream: the continuation's cancellation must not cut what was already decided.
            await _client.WriteAsync(_output.WrittenMemory, CancellationToken.None);
            await _client.FlushAsync(CancellationToken.None);
        }

        if (Diverged)
        {
            // Stops YARP's copy of the continuation (and with it the provider).
            throw new IOException("The continuation diverged from the answer the client has.");
        }
    }

    // Handles the complete events at the start of the bytes; returns how many bytes they took.
    private int Splice(ReadOnlySpan<byte> bytes)
    {
        var consumed = 0;
        while (!Diverged)
        {
            var end = bytes[consumed..].IndexOf("\n\n"u8);
            if (end < 0)
            {
                break;
            }

            var sseEvent = bytes.Slice(consumed, end + 2);
            consumed += end + 2;
            OnEvent(sseEvent);
        }

        return consumed;
    }

    private void OnEvent(ReadOnlySpan<byte> sseEvent)
    {
        var data = SseScanner.DataOf(sseEvent);
        if (data.IsEmpty)
        {
            // A comment or a keep-alive.
            _output.Write(sseEvent);
            return;
        }

        if (data.SequenceEqual("[DONE]"u8))
        {
            Ended = true;
            Pass(sseEvent);
            return;
        }

        try
        {
            using var document = JsonDocument.Parse(data.ToArray());
            var root = document.RootElement;
            if (root.TryGetProperty("error", out _))
            {
                Ended = true;
                Pass(sseEvent);
                return;
            }

            if (!root.TryGetProperty("choices", out var choices) || choices.ValueKind != JsonValueKind.Array || choices.GetArrayLength() == 0)
            {
                // The usage chunk, or something else without choices: as it came.
                Pass(sseEvent);
                return;
            }

            var choice = choices[0];
            var text = choice.TryGetProperty("delta", out var delta) && delta.ValueKind == JsonValueKind.Object
                && delta.TryGetProperty("content", out var content) && content.ValueKind == JsonValueKind.String ? content.GetString()! : "";
            var finish = choice.TryGetProperty("finish_reason", out var reason) && reason.ValueKind == JsonValueKind.String ? reason.GetString() : null;
            if (delta.ValueKind == JsonValueKind.Object && delta.TryGetProperty("tool_calls", out var calls) && calls.ValueKind != JsonValueKind.Null)
            {
                Diverge();
                return;
            }

            OnText(System.Text.Encoding.UTF8.GetBytes(text), finish);
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException)
        {
            // The guard drops events that are not JSON; nothing else gets here.
        }
    }

    private void OnText(ReadOnlySpan<byte> text, string? finish)
    {
        if (_matched < _behind)
        {
            var delivered = _transcript.Text[_matched.._behind];
            var common = Math.Min(delivered.Length, text.Length);
            if (!text[..common].SequenceEqual(delivered[..common]))
            {
                Diverge();
                return;
            }

            _matched += common;
            text = text[common..];
            if (_matched < _behind && finish is not null)
            {
                // The restarted answer is shorter than what the client already has.
                Diverge();
                return;
            }
        }
        else if (_trimmed.Length > 0 && !text.IsEmpty)
        {
            // A prefill ends without its trailing whitespace (Anthropic refuses it): a continuation that starts with it again does not repeat it.
            if (text.StartsWith(_trimmed))
            {
                text = text[_trimmed.Length..];
            }

            _trimmed = [];
        }

        if (text.IsEmpty && finish is null)
        {
            // The opening role chunk, or text the client already has.
            return;
        }

        _transcript.Append(text);
        Write(text, finish);
    }

    private void Write(ReadOnlySpan<byte> text, string? finish)
    {
        _output.Write(SseFrames.DataPrefix);
        using (var writer = new Utf8JsonWriter(_output))
        {
            writer.WriteStartObject();
            writer.WriteString("id", _transcript.Id ?? "chatcmpl-continued");
            writer.WriteString("object", "chat.completion.chunk");
            writer.WriteNumber("created", _transcript.Created);
            writer.WriteString("model", _transcript.Model ?? "");
            writer.WriteStartArray("choices");
            writer.WriteStartObject();
            writer.WriteNumber("index", 0);
            writer.WriteStartObject("delta");
            if (!text.IsEmpty)
            {
                writer.WriteString("content", text);
            }

            writer.WriteEndObject();
            if (finish is null)
            {
                writer.WriteNull("finish_reason");
            }
            else
            {
                writer.WriteString("finish_reason", finish);
                Ended = true;
            }

            writer.WriteEndObject();
            writer.WriteEndArray();
            writer.WriteEndObject();
        }

        _output.Write(SseFrames.BlankLine);
        Passed = true;
    }

    private void Pass(ReadOnlySpan<byte> sseEvent)
    {
        _output.Write(sseEvent);
        Passed = true;
    }

    private void Diverge()
    {
        Diverged = true;
        var error = ErrorWriter.Serialize("The provider failed mid-answer and the answer could not be continued elsewhere without changing what was already sent.",
            ErrorWriter.TypeOf(LlmError.UpstreamError), null, ErrorWriter.CodeOf(LlmError.UpstreamError));
        _output.Write(SseFrames.Error(error));
    }
}
