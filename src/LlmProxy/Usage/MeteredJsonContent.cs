using System.Buffers;
using LlmProxy.Hosting;
using LlmProxy.Streaming;
using LlmProxy.Telemetry;

namespace LlmProxy.Usage;

/// <summary>
/// Wraps a provider's JSON answer: the bytes pass through to the client unchanged while a copy (up to
/// <see cref="MaxCapture"/>) is kept; at the end the copy is read for usage, model and id. A larger body (a big
/// embeddings answer) keeps only its tail, where OpenAI puts <c>usage</c>.
/// </summary>
internal sealed class MeteredJsonContent : PassThroughContent
{
    /// <summary>Largest body read whole.</summary>
    public const int MaxCapture = 1024 * 1024;

    /// <summary>Bytes kept from the end of a larger body.</summary>
    public const int TailBytes = 16 * 1024;

    private readonly LlmRequestFeature _request;
    private readonly TimeProvider _time;

    public MeteredJsonContent(HttpContent inner, LlmRequestFeature request, TimeProvider time)
        : base(inner)
    {
        _request = request;
        _time = time;
    }

    protected override Stream Wrap(Stream providerBody) => new TapStream(providerBody, _request, _time);

    /// <summary>
    /// Keeps the last <see cref="TailBytes"/> bytes seen at the start of <paramref name="buffer"/> (at least that
    /// large): its first <paramref name="length"/> bytes were seen so far, <paramref name="bytes"/> came next; returns
    /// how many are kept now.
    /// </summary>
    public static int KeepTail(Span<byte> buffer, int length, ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length >= TailBytes)
        {
            bytes[^TailBytes..].CopyTo(buffer);
            return TailBytes;
        }

        var keep = Math.Min(length, TailBytes - bytes.Length);
        buffer.Slice(length - keep, keep).CopyTo(buffer);
        bytes.CopyTo(buffer[keep..]);
        return keep + bytes.Length;
    }

    private sealed class TapStream(Stream providerBody, LlmRequestFeature request, TimeProvider time) : PassThroughStream(providerBody)
    {
        private byte[] _copy = ArrayPool<byte>.Shared.Rent(4096);
        private int _length;
        private bool _tailOnly;
        private bool _finished;

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            var pending = Inner.ReadAsync(buffer, cancellationToken);
            if (buffer.IsEmpty)
            {
                return pending;
            }

            // Most reads complete at once: observe them without an async state machine.
            return pending.IsCompletedSuccessfully ? new ValueTask<int>(Observe(buffer, pending.Result)) : ObserveAsync(buffer, pending);
        }

        private async ValueTask<int> ObserveAsync(Memory<byte> buffer, ValueTask<int> pending) => Observe(buffer, await pending);

        private int Observe(Memory<byte> buffer, int read)
        {
            if (read == 0)
            {
                FinishOnce();
            }
            else
            {
                Keep(buffer.Span[..read]);
            }

            return read;
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                var copy = Interlocked.Exchange(ref _copy, []);
                if (copy.Length > 0)
                {
                    ArrayPool<byte>.Shared.Return(copy);
                }
            }

            base.Dispose(disposing);
        }

        private void Keep(ReadOnlySpan<byte> bytes)
        {
            if (!_tailOnly && _length + bytes.Length > MaxCapture)
            {
                _tailOnly = true;
            }

            if (_tailOnly)
            {
                _length = KeepTail(_copy, _length, bytes);
                return;
            }

            if (_length + bytes.Length > _copy.Length)
            {
                var larger = ArrayPool<byte>.Shared.Rent(Math.Max(_copy.Length * 2, _length + bytes.Length));
                _copy.AsSpan(0, _length).CopyTo(larger);
                ArrayPool<byte>.Shared.Return(_copy);
                _copy = larger;
            }

            bytes.CopyTo(_copy.AsSpan(_length));
            _length += bytes.Length;
        }


        private void FinishOnce()
        {
            if (_finished)
            {
                return;
            }

            _finished = true;
            request.UpstreamEnd = time.GetTimestamp();
            var captured = _copy.AsSpan(0, _length);
            if (request.CaptureBodies)
            {
                request.AnswerText = System.Text.Encoding.UTF8.GetString(captured[..Math.Min(captured.Length, RequestLogSink.MaxBodyChars)]);
            }

            if (!_tailOnly)
            {
                UsageReader.ReadBodyFast(captured, request);
                return;
            }

            // Only the tail: read the last "usage" object on its own.
            UsageReader.ReadLastUsage(captured, request);
        }
    }
}
