using System.Net;
using LlmProxy.Errors;

namespace LlmProxy.Streaming;

/// <summary>
/// Wraps a provider's <c>text/event-stream</c> body so that a provider failure after the 200 (connection
/// reset, idle timeout) ends the client's stream with an OpenAI-shaped <c>data: {"error":…}</c> event instead
/// of a silent truncation. Bytes pass through as they are read; nothing is held back.
/// </summary>
internal sealed class EventStreamGuard : HttpContent
{
    private readonly HttpContent _inner;
    private readonly HttpContext _client;

    /// <summary>Wraps <paramref name="inner"/>, the provider body being copied to <paramref name="client"/>'s response.</summary>
    public EventStreamGuard(HttpContent inner, HttpContext client)
    {
        _inner = inner;
        _client = client;
        foreach (var header in inner.Headers)
        {
            Headers.TryAddWithoutValidation(header.Key, header.Value);
        }
    }

    /// <summary>The SSE error event sent when the provider fails mid-stream.</summary>
    internal static byte[] ErrorEvent(bool timedOut, bool needsTerminator)
    {
        var error = timedOut ? LlmError.UpstreamTimeout : LlmError.UpstreamUnreachable;
        var message = timedOut
            ? "The provider stopped sending before the stream finished (timeout)."
            : "The provider's connection failed before the stream finished.";
        var json = ErrorWriter.Serialize(message, ErrorWriter.TypeOf(error), null, ErrorWriter.CodeOf(error));
        var prefix = needsTerminator ? "\n\ndata: "u8 : "data: "u8;
        var bytes = new byte[prefix.Length + json.Length + 2];
        prefix.CopyTo(bytes);
        json.CopyTo(bytes.AsSpan(prefix.Length));
        bytes[^2] = (byte)'\n';
        bytes[^1] = (byte)'\n';
        return bytes;
    }

    /// <inheritdoc/>
    protected override async Task<Stream> CreateContentReadStreamAsync(CancellationToken cancellationToken)
        => new GuardStream(await _inner.ReadAsStreamAsync(cancellationToken), _client);

    /// <inheritdoc/>
    protected override Task<Stream> CreateContentReadStreamAsync() => CreateContentReadStreamAsync(CancellationToken.None);

    /// <inheritdoc/>
    protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
    {
        await using var source = await CreateContentReadStreamAsync();
        await source.CopyToAsync(stream);
    }

    /// <inheritdoc/>
    protected override bool TryComputeLength(out long length)
    {
        length = 0;
        return false;
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

    // YARP copies this stream to the client. On a provider failure the copy's token may already be cancelled
    // (idle timeout), so the error event is written to the client directly and the copy then sees a clean end.
    private sealed class GuardStream(Stream inner, HttpContext client) : Stream
    {
        private bool _failed;
        private byte _last1;
        private byte _last2;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (_failed)
            {
                return 0;
            }

            try
            {
                var read = await inner.ReadAsync(buffer, cancellationToken);
                if (read > 0)
                {
                    _last2 = read > 1 ? buffer.Span[read - 2] : _last1;
                    _last1 = buffer.Span[read - 1];
                }

                return read;
            }
            catch (Exception ex) when (!client.RequestAborted.IsCancellationRequested && ex is IOException or HttpRequestException or OperationCanceledException)
            {
                _failed = true;
                var atBoundary = _last1 == '\n' && _last2 == '\n';
                var errorEvent = ErrorEvent(timedOut: ex is OperationCanceledException, needsTerminator: !atBoundary && _last1 != 0);
                try
                {
                    await client.Response.Body.WriteAsync(errorEvent, CancellationToken.None);
                    await client.Response.Body.FlushAsync(CancellationToken.None);
                }
                catch (Exception writeError) when (writeError is IOException or OperationCanceledException or ObjectDisposedException)
                {
                    // The client is gone too; nothing left to tell.
                }

                return 0;
            }
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
            => ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer, offset, count).GetAwaiter().GetResult();

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                inner.Dispose();
            }

            base.Dispose(disposing);
        }
    }
}
