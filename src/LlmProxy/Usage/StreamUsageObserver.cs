using LlmProxy.Hosting;
using LlmProxy.Streaming;
using LlmProxy.Telemetry;

namespace LlmProxy.Usage;

/// <summary>
/// Meters a stream as it passes: usage, time to first token and generated text length from each event (see
/// <see cref="UsageReader"/>), and how the stream ended. The usage-only chunk the gateway asked for on the client's
/// behalf (<see cref="LlmRequestFeature.StripUsageChunk"/>) is dropped, and so is an event whose data is not JSON (the
/// SDKs throw on it; it is counted in <c>llmproxy.stream.invalid_events</c>).
/// </summary>
internal sealed class StreamUsageObserver : IStreamObserver
{
    private readonly LlmRequestFeature _request;
    private readonly TimeProvider _time;
    private readonly LlmProxyMetrics? _metrics;

    /// <summary>Meters into <paramref name="request"/>.</summary>
    public StreamUsageObserver(LlmRequestFeature request, TimeProvider time, LlmProxyMetrics? metrics = null)
    {
        _request = request;
        _time = time;
        _metrics = metrics;
    }

    /// <inheritdoc/>
    public EventVerdict OnEvent(ReadOnlySpan<byte> sseEvent, ReadOnlySpan<byte> data, SseOutbox outbox)
    {
        if (data.IsEmpty || data.SequenceEqual("[DONE]"u8))
        {
            return EventVerdict.Pass;
        }

        if (!UsageReader.ReadEvent(data, _request, out var usageOnly, out var hasText))
        {
            _metrics?.InvalidStreamEvent(_request.Model?.Name ?? _request.Request.Model);
            return EventVerdict.Drop;
        }

        if (hasText && _request.FirstToken == 0)
        {
            _request.FirstToken = _time.GetTimestamp();
        }

        return usageOnly && _request.StripUsageChunk ? EventVerdict.Drop : EventVerdict.Pass;
    }

    /// <inheritdoc/>
    public void OnOversizedEvent(ReadOnlySpan<byte> tail) => UsageReader.ReadLastUsage(tail, _request);

    /// <inheritdoc/>
    public EventVerdict OnProviderEnd(SseOutbox outbox) => EventVerdict.Pass;

    /// <inheritdoc/>
    public ValueTask<bool> OnProviderFailureAsync(StreamEnd failure) => ValueTask.FromResult(false);

    /// <inheritdoc/>
    public void OnStreamEnd(StreamEnd end)
    {
        _request.UpstreamEnd = _time.GetTimestamp();
        var failure = end switch
        {
            StreamEnd.Truncated => ErrorCategory.UpstreamError,
            StreamEnd.TimedOut => ErrorCategory.UpstreamTimeout,
            StreamEnd.Unreachable => ErrorCategory.UpstreamUnreachable,
            _ => ErrorCategory.None,
        };
        if (failure != ErrorCategory.None)
        {
            _request.StreamFailure = failure;
        }
    }
}
