using System.Buffers;
using System.Text.Json;

namespace LlmProxy.Failover;

/// <summary>
/// What a stream has delivered to the client, kept so that another target can continue it if its provider fails: the
/// text of its one choice (UTF-8), and the id, model and creation time the client saw. A stream that carried what a
/// continuation cannot reproduce (tool calls, a refusal, several choices, more than <see cref="MaxBytes"/> of text) is
/// marked <see cref="Unsupported"/>: it ends with an error event instead.
/// </summary>
internal sealed class StreamTranscript
{
    /// <summary>The most text kept; a longer answer is not continued.</summary>
    public const int MaxBytes = 1 << 20;

    private ArrayBufferWriter<byte>? _text;

    /// <summary>False while a continuation runs: its splicer adds what passes (a restart repeats text the client has).</summary>
    public bool Recording { get; set; } = true;

    /// <summary>True when a continuation could not reproduce what the client has.</summary>
    public bool Unsupported { get; private set; }

    /// <summary>The text delivered so far (UTF-8).</summary>
    public ReadOnlySpan<byte> Text => _text is null ? [] : _text.WrittenSpan;

    /// <summary>The chunk id the client saw first.</summary>
    public string? Id { get; private set; }

    /// <summary>The model the client saw first.</summary>
    public string? Model { get; private set; }

    /// <summary>The <c>created</c> the client saw first.</summary>
    public long Created { get; private set; }

    /// <summary>Marks the stream as one a continuation cannot reproduce.</summary>
    public void MarkUnsupported()
    {
        Unsupported = true;
        _text = null;
    }

    /// <summary>Forgets an attempt of which nothing reached the client.</summary>
    public void Clear()
    {
        _text?.ResetWrittenCount();
        Unsupported = false;
        Id = null;
        Model = null;
        Created = 0;
    }

    /// <summary>Cuts the text back to <paramref name="length"/> bytes (an event that turned out not to be JSON never reached the client).</summary>
    public void Truncate(int length)
    {
        if (_text is not null && length < _text.WrittenCount)
        {
            var kept = _text.WrittenSpan[..length].ToArray();
            _text.ResetWrittenCount();
            _text.Write(kept);
        }
    }

    /// <summary>Keeps the id, model and creation time of the first chunk.</summary>
    public void Identify(string? id, string? model, long created)
    {
        // Kept from the first chunk only (the callers check before making the strings).
        Id ??= id;
        Model ??= model;
        if (Created == 0)
        {
            Created = created;
        }
    }

    /// <summary>Appends the string the reader is on (unescaped).</summary>
    public void Append(ref Utf8JsonReader reader)
    {
        if (Unsupported)
        {
            return;
        }

        var length = reader.HasValueSequence ? checked((int)reader.ValueSequence.Length) : reader.ValueSpan.Length;
        _text ??= new ArrayBufferWriter<byte>(Math.Max(256, length));
        if (_text.WrittenCount + length > MaxBytes)
        {
            MarkUnsupported();
            return;
        }

        var written = reader.CopyString(_text.GetSpan(length));
        _text.Advance(written);
    }

    /// <summary>Appends text a continuation delivered.</summary>
    public void Append(ReadOnlySpan<byte> utf8)
    {
        if (Unsupported)
        {
            return;
        }

        _text ??= new ArrayBufferWriter<byte>(Math.Max(256, utf8.Length));
        if (_text.WrittenCount + utf8.Length > MaxBytes)
        {
            MarkUnsupported();
            return;
        }

        _text.Write(utf8);
    }
}
