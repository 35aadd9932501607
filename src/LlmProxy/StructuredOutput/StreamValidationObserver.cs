using LlmProxy.Errors;
using LlmProxy.Hosting;
using LlmProxy.RateLimiting;
using LlmProxy.Streaming;

namespace LlmProxy.StructuredOutput;

/// <summary>
/// Validates a streamed chat answer as it passes (<see cref="StreamValidation"/>): collects it, stops it as soon as it
/// can no longer be valid, and sends the verdict as a comment before <c>[DONE]</c>. With <c>stream_mode: buffer</c>
/// the events are held until the verdict: a valid answer then goes out whole, an invalid one becomes a 422 (or, under
/// <c>retry</c>, is recorded for the attempt loop, and nothing goes out).
/// </summary>
internal sealed class StreamValidationObserver : IStreamObserver
{
    // Events held at most (the same cap as a non-streamed answer checked whole).
    private const int MaxHeldBytes = 16 * 1024 * 1024;

    private readonly StreamValidation _validation;
    private readonly HttpContext _client;
    private readonly LlmRequestFeature _request;
    private bool _verdictSent;
    private bool _unbuffered;
    private long _generatedBytes;

    /// <summary>Validates the stream going to <paramref name="client"/>.</summary>
    public StreamValidationObserver(StreamValidation validation, HttpContext client, LlmRequestFeature request)
    {
        _validation = validation;
        _client = client;
        _request = request;
    }

    private bool Buffering => _validation.Buffered && !_unbuffered;

    /// <inheritdoc/>
    public EventVerdict OnEvent(ReadOnlySpan<byte> sseEvent, ReadOnlySpan<byte> data, SseOutbox outbox)
    {
        if (_verdictSent)
        {
            return EventVerdict.Pass;
        }

        if (data.IsEmpty)
        {
            // Comments and keep-alives are held with the rest, so nothing starts the response early.
            return Buffering ? EventVerdict.Hold : EventVerdict.Pass;
        }

        if (data.SequenceEqual("[DONE]"u8))
        {
            return Finish(outbox);
        }

        _validation.Collector.Add(data);
        _generatedBytes += data.Length;
        if (_validation.EarlyViolation is not null)
        {
            return StopEarly(outbox);
        }

        if (!Buffering)
        {
            return EventVerdict.Pass;
        }

        if (outbox.HeldBytes + sseEvent.Length > MaxHeldBytes)
        {
            // Too much to hold: what is held goes out now and the rest passes through, checked as it goes.
            _unbuffered = true;
            outbox.ReleaseHeld();
            return EventVerdict.Pass;
        }

        return EventVerdict.Hold;
    }

    /// <inheritdoc/>
    public void OnOversizedEvent(ReadOnlySpan<byte> tail) => _validation.Collector.MarkIncomplete();

    /// <inheritdoc/>
    public EventVerdict OnProviderEnd(SseOutbox outbox) => _verdictSent ? EventVerdict.Pass : Finish(outbox);

    /// <inheritdoc/>
    public async ValueTask<bool> OnProviderFailureAsync(StreamEnd failure)
    {
        if (!Buffering || _client.Response.HasStarted)
        {
            return false;
        }

        // Nothing of a buffered answer went out: the client gets the plain JSON error a non-streamed request would.
        _client.Response.Headers.ContentLength = null;
        var timedOut = failure == StreamEnd.TimedOut;
        await ErrorWriter.WriteAsync(_client, timedOut ? LlmError.UpstreamTimeout : LlmError.UpstreamUnreachable,
            timedOut ? "The answer was not complete in time: the provider stopped sending, or the request's deadline passed." : "The provider's connection failed before the answer was complete.");
        return true;
    }

    /// <inheritdoc/>
    public void OnStreamEnd(StreamEnd end)
    {
    }

    // The answer is complete ([DONE], or the provider's end): the verdict goes out (after what is held), and a failed
    // answer ends the stream.
    private EventVerdict Finish(SseOutbox outbox)
    {
        _verdictSent = true;
        var frames = _validation.Finish(out var rejected);
        if (rejected)
        {
            MarkInvalid();
            if (Buffering)
            {
                return Reject(_validation.Violations, outbox);
            }
        }
        else if (Buffering)
        {
            outbox.ReleaseHeld();
        }

        outbox.Write(frames);
        return rejected ? EventVerdict.Stop : EventVerdict.Pass;
    }

    private EventVerdict StopEarly(SseOutbox outbox)
    {
        _verdictSent = true;
        var generated = _request.Metered ? (_request.GeneratedTextBytes + 3) / 4 : _generatedBytes / 16;
        var frames = _validation.Abort(generated, MaxOutputTokens());
        MarkInvalid();
        if (Buffering)
        {
            return Reject([_validation.EarlyViolation!], outbox);
        }

        outbox.Write(frames);
        return EventVerdict.Stop;
    }

    // A buffered answer failed. Nothing went out yet (unless an event too large to hold did): under retry the attempt loop
    // asks again; otherwise the client gets the 422 JSON error (or, once the response started, the SSE error event).
    private EventVerdict Reject(IReadOnlyList<Violation> violations, SseOutbox outbox)
    {
        var response = _client.Response;
        if (_validation.CanRetry && !response.HasStarted)
        {
            _request.RetryWanted = new InvalidAnswer(_validation.Collector.ToCompletion(), violations);
            return EventVerdict.Stop;
        }

        var error = StreamValidation.ErrorJson(violations);
        if (response.HasStarted)
        {
            outbox.Write(SseFrames.CommentThenError("llmproxy-validation failed", error));
            return EventVerdict.Stop;
        }

        response.StatusCode = StatusCodes.Status422UnprocessableEntity;
        response.ContentType = "application/json";
        response.Headers.ContentLength = null;
        outbox.Write(error);
        return EventVerdict.Stop;
    }

    private void MarkInvalid()
    {
        _request.GatewayError ??= LlmError.StructuredOutputInvalid;
    }

    // The most output the request could have produced: what stopping early saves is this less what was generated.
    private long MaxOutputTokens()
    {
        var request = _request;
        // Only when a stream stops early: the singleton is looked up here rather than carried by every observer.
        return _client.RequestServices.GetRequiredService<TokenEstimator>().Count(request.Body, request.Target?.UpstreamModel ?? request.Request.Model,
            producesText: true, request.Snapshot.Limits.Settings.DefaultMaxTokens).MaxOutput;
    }
}
