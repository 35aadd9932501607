namespace LlmProxy.Streaming;

/// <summary>
/// Wraps a provider's <c>text/event-stream</c> body so that a provider failure after the 200 (connection reset, idle
/// timeout) ends the client's stream with an OpenAI-shaped <c>data: {"error":…}</c> event instead of a silent
/// truncation, a clean close without a finish reason ends with a truncation error event, and a finish reason without
/// <c>[DONE]</c> gets one. Complete events pass through as soon as they are read, each seen by the observers
/// (metering, validation); see <see cref="GuardedEventStream"/>.
/// </summary>
internal sealed class EventStreamGuard : PassThroughContent
{
    private readonly HttpContext _client;
    private readonly IStreamObserver[] _observers;
    private readonly bool _endsWithDone;
    private readonly TimeProvider _time;

    /// <summary>
    /// Wraps <paramref name="inner"/>, the provider body being copied to <paramref name="client"/>'s response, showing
    /// each complete event to <paramref name="observers"/> in order. <paramref name="endsWithDone"/>: the API's streams
    /// end with <c>data: [DONE]</c> (chat and completions), so a finished stream without it gets one. <paramref name="time"/>
    /// tells when the request's deadline passed.
    /// </summary>
    public EventStreamGuard(HttpContent inner, HttpContext client, IStreamObserver[] observers, bool endsWithDone, TimeProvider time)
        : base(inner)
    {
        _time = time;
        _client = client;
        _observers = observers;
        _endsWithDone = endsWithDone;
    }

    /// <inheritdoc/>
    protected override Stream Wrap(Stream providerBody) => new GuardedEventStream(providerBody, _client, _observers, _endsWithDone, _time);
}
