using System.Net;

namespace LlmProxy.Streaming;

/// <summary>
/// A provider body seen through a wrapping stream: YARP reads the wrapper while the bytes flow to the client.
/// The headers are not copied: YARP has sent the provider's headers to the client before transforms run.
/// </summary>
internal abstract class PassThroughContent : HttpContent
{
    private readonly HttpContent _inner;

    protected PassThroughContent(HttpContent inner) => _inner = inner;

    /// <summary>Wraps the provider's body stream.</summary>
    protected abstract Stream Wrap(Stream providerBody);

    protected override async Task<Stream> CreateContentReadStreamAsync(CancellationToken cancellationToken)
        => Wrap(await _inner.ReadAsStreamAsync(cancellationToken));

    protected override Task<Stream> CreateContentReadStreamAsync() => CreateContentReadStreamAsync(CancellationToken.None);

    protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
    {
        await using var source = await CreateContentReadStreamAsync();
        await source.CopyToAsync(stream);
    }

    protected override bool TryComputeLength(out long length)
    {
        length = 0;
        return false;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _inner.Dispose();
        }

        base.Dispose(disposing);
    }
}
