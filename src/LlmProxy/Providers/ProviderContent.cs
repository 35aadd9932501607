using System.IO.Compression;
using LlmProxy.Streaming;

namespace LlmProxy.Providers;

/// <summary>
/// A provider's body as the rest of the gateway reads it: decoded when the provider compressed it anyway (the gateway
/// asks for identity), and with every trace of the provider's credential overwritten (see <see cref="CredentialRedactor"/>)
/// before any stage — metering, validation, the SSE guard, the error rewriter — or the client sees a byte.
/// </summary>
internal sealed class ProviderContent : PassThroughContent
{
    private readonly CredentialRedactor? _redactor;
    private readonly string[] _encodings;

    /// <summary>Wraps <paramref name="inner"/>; <paramref name="codings"/> are its content codings (see <see cref="Codings"/>), outermost last.</summary>
    public ProviderContent(HttpContent inner, CredentialRedactor? redactor, string[] codings)
        : base(inner)
    {
        _redactor = redactor;
        _encodings = codings;
    }

    /// <summary>
    /// The content codings of a <c>Content-Encoding</c> header, each value split at its commas and <c>identity</c> left
    /// out; null when one of them is a coding the gateway cannot decode (its body could not be read or redacted).
    /// </summary>
    public static string[]? Codings(IEnumerable<string> values)
    {
        var codings = new List<string>();
        foreach (var value in values)
        {
            foreach (var part in value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                var coding = part.ToLowerInvariant();
                if (coding is "identity")
                {
                    continue;
                }

                if (coding is not ("gzip" or "x-gzip" or "deflate" or "br"))
                {
                    return null;
                }

                codings.Add(coding);
            }
        }

        return [.. codings];
    }

    /// <inheritdoc/>
    protected override Stream Wrap(Stream providerBody)
    {
        var stream = providerBody;
        for (var i = _encodings.Length - 1; i >= 0; i--)
        {
            stream = _encodings[i] switch
            {
                "gzip" or "x-gzip" => new GZipStream(stream, CompressionMode.Decompress),
                "deflate" => new ZLibStream(stream, CompressionMode.Decompress),
                _ => new BrotliStream(stream, CompressionMode.Decompress),
            };
        }

        return _redactor is null ? stream : new RedactingStream(stream, _redactor);
    }

    // Reads into the caller's buffer and redacts there. Bytes at the end that may begin a match wait for the next read
    // (almost never: see CredentialRedactor.Redact), so the client never gets the first half of a key in one write.
    private sealed class RedactingStream(Stream inner, CredentialRedactor redactor) : PassThroughStream(inner)
    {
        private byte[]? _held;
        private int _heldLength;
        private byte[]? _scratch;
        private int _readyOffset;
        private int _readyCount;
        private bool _ended;

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (_readyCount > 0)
            {
                return TakeReady(buffer.Span);
            }

            if (_ended)
            {
                return 0;
            }

            if (buffer.IsEmpty)
            {
                // YARP's zero-byte read: wait for data without taking a buffer.
                return await Inner.ReadAsync(buffer, cancellationToken);
            }

            // The caller's buffer is normally far larger than what is held. One without room for a whole match beyond it
            // (a guard holding most of a large event passes what is left of its buffer) reads through a scratch buffer,
            // so a read never lands in an empty slice, which would look like the end of the body.
            var useScratch = buffer.Length < _heldLength + redactor.MaxEncodedLength + 256;
            var work = useScratch ? (_scratch ??= new byte[(2 * redactor.MaxEncodedLength) + (16 * 1024)]).AsMemory() : buffer;
            while (true)
            {
                _held.AsSpan(0, _heldLength).CopyTo(work.Span);
                var read = await Inner.ReadAsync(work[_heldLength..], cancellationToken);
                var total = _heldLength + read;
                _ended = read == 0;
                var final = redactor.Redact(work.Span[..total], atEnd: _ended);
                _heldLength = total - final;
                if (_heldLength > 0)
                {
                    _held ??= new byte[redactor.MaxEncodedLength];
                    work.Span[final..total].CopyTo(_held);
                }

                if (final == 0 && !_ended)
                {
                    // All of it may be the start of a key: read on before anything goes out.
                    continue;
                }

                if (!useScratch)
                {
                    return final;
                }

                _readyOffset = 0;
                _readyCount = final;
                return TakeReady(buffer.Span);
            }
        }

        private int TakeReady(Span<byte> destination)
        {
            var count = Math.Min(_readyCount, destination.Length);
            _scratch.AsSpan(_readyOffset, count).CopyTo(destination);
            _readyOffset += count;
            _readyCount -= count;
            return count;
        }
    }
}
