using System.IO.Pipelines;
using Microsoft.AspNetCore.Http.Features;

namespace LlmProxy.Failover;

/// <summary>
/// The response a continuation attempt is forwarded into. The client's response has started (it holds part of the
/// answer), so YARP gets a fresh one: status and headers it sets stay here, and the body goes to the
/// <see cref="StreamSplicer"/>, which passes the continuation on to the client's stream.
/// </summary>
internal sealed class ContinuationResponse : IHttpResponseFeature, IHttpResponseBodyFeature
{
    private readonly IHttpResponseFeature _client;
    private PipeWriter? _writer;

    public ContinuationResponse(IHttpResponseFeature client, StreamSplicer splicer)
    {
        _client = client;
        Stream = splicer;
    }

    /// <inheritdoc/>
    public int StatusCode { get; set; } = StatusCodes.Status200OK;

    /// <inheritdoc/>
    public string? ReasonPhrase { get; set; }

    /// <inheritdoc/>
    public IHeaderDictionary Headers { get; set; } = new HeaderDictionary();

    /// <inheritdoc/>
    public Stream Body
    {
        get => Stream;
        set => throw new NotSupportedException("The continuation's body is the splicer.");
    }

    /// <inheritdoc/>
    public bool HasStarted => false;

    /// <inheritdoc/>
    public Stream Stream { get; }

    /// <inheritdoc/>
    public PipeWriter Writer => _writer ??= PipeWriter.Create(Stream, new StreamPipeWriterOptions(leaveOpen: true));

    /// <inheritdoc/>
    public void OnStarting(Func<object, Task> callback, object state)
    {
        // The client's response has started: what would run before it starts never will.
    }

    /// <inheritdoc/>
    public void OnCompleted(Func<object, Task> callback, object state) => _client.OnCompleted(callback, state);

    /// <inheritdoc/>
    public void DisableBuffering()
    {
    }

    /// <inheritdoc/>
    public Task StartAsync(CancellationToken cancellationToken = default) => Task.CompletedTask;

    /// <inheritdoc/>
    public Task SendFileAsync(string path, long offset, long? count, CancellationToken cancellationToken = default)
        => throw new NotSupportedException("A continuation sends no files.");

    /// <inheritdoc/>
    public Task CompleteAsync() => _writer?.FlushAsync().AsTask() ?? Task.CompletedTask;
}
