using LlmProxy.Hosting;

namespace LlmProxy.Streaming;

/// <summary>
/// The stream YARP copies to the client in place of the provider's body. Each read returns the complete events it
/// found (after whatever the observers queued in the <see cref="SseOutbox"/>); the unfinished tail of an event waits
/// in the <see cref="SseScanner"/> for its blank line, so a failure never leaves a half event before the error event.
/// On a provider failure the copy's token may already be cancelled (idle timeout), so the error event is written to
/// the client directly and the copy then sees a clean end. A stream still running when the request's deadline passed
/// (<see cref="LlmRequestFeature.DeadlineAt"/>) is ended at its next read as one that timed out.
/// </summary>
internal sealed class GuardedEventStream(Stream providerBody, HttpContext client, IStreamObserver[] observers, bool endsWithDone, TimeProvider time)
    : PassThroughStream(providerBody)
{
    private readonly SseScanner _scanner = new();
    private readonly SseOutbox _outbox = new();
    private readonly StreamCompletion _completion = new();
    // The client's own token: during an attempt the request's token also ends on the attempt loop's timers, and a
    // provider stopped by the deadline must still end the stream with an error event.
    private readonly LlmRequestFeature? _request = client.Features.Get<LlmRequestFeature>();
    private CancellationToken ClientAborted => _request is { ClientAborted.CanBeCanceled: true } request ? request.ClientAborted : client.RequestAborted;
    private bool _ended;

    /// <inheritdoc/>
    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (_outbox.HasPending)
        {
            return _outbox.Take(buffer.Span);
        }

        if (_ended)
        {
            return 0;
        }

        if (buffer.IsEmpty)
        {
            if (DeadlinePassed())
            {
                return await EndAtDeadlineAsync();
            }

            // YARP's zero-byte read: wait for data without taking a buffer.
            try
            {
                return await Inner.ReadAsync(buffer, cancellationToken);
            }
            catch (Exception ex) when (IsProviderFailure(ex))
            {
                if (RetryableBeforeStart())
                {
                    throw;
                }

                await FailAsync(ex);
                return 0;
            }
        }

        while (true)
        {
            if (DeadlinePassed())
            {
                // Checked before every read from the provider, also while events are held or dropped (a buffered
                // structured-output stream passes nothing until its end).
                return await EndAtDeadlineAsync();
            }

            var start = _scanner.TakeTail(buffer.Span);
            var read = 0;
            if (start < buffer.Length)
            {
                try
                {
                    read = await Inner.ReadAsync(buffer[start..], cancellationToken);
                }
                catch (Exception ex) when (IsProviderFailure(ex))
                {
                    if (RetryableBeforeStart())
                    {
                        throw;
                    }

                    // The held partial event is dropped: the client sees only whole events, then the error.
                    await FailAsync(ex);
                    return 0;
                }

                if (read == 0)
                {
                    End(buffer.Span[..start]);
                    if (_request?.StreamCut is not null && RetryableBeforeStart())
                    {
                        // Closed before the answer began: an ordinary retry for the attempt loop, not a continuation.
                        _request.StreamCut = null;
                        throw new IOException("The provider closed the stream before the answer began.");
                    }

                    return _outbox.Take(buffer.Span);
                }
            }

            var total = start + read;
            var passed = Scan(buffer.Span[..total], filled: total == buffer.Length);
            if (passed > 0)
            {
                return passed;
            }

            if (_outbox.HasPending || _ended)
            {
                return _outbox.Take(buffer.Span);
            }

            // Nothing to pass yet (an unfinished event, or only dropped or held ones): read on.
        }
    }

    // Shows the complete events to the observers; moves those that pass to the start of the span (or behind what the
    // observers queued) and returns the length of what passes now.
    private int Scan(Span<byte> bytes, bool filled)
    {
        var scan = _scanner.Scan(bytes, filled);
        if (scan.OversizedStarted)
        {
            // The type of a Responses API event is at its start.
            _completion.Observe(SseScanner.DataOf(bytes));
            return bytes.Length;
        }

        if (scan.OversizedTail is { } tail)
        {
            ObserveOversized(tail);
        }

        var write = scan.Passed;
        var read = scan.Passed;
        while (read < scan.EventsEnd)
        {
            var length = SseScanner.EndOfFirstEvent(bytes[read..scan.EventsEnd]);
            var sseEvent = bytes.Slice(read, length);
            switch (Dispatch(sseEvent))
            {
                case EventVerdict.Pass when _outbox.HasPending:
                    _outbox.Write(sseEvent);
                    break;
                case EventVerdict.Pass:
                    if (write != read)
                    {
                        sseEvent.CopyTo(bytes[write..]);
                    }

                    write += length;
                    break;
                case EventVerdict.Hold:
                    _outbox.Hold(sseEvent);
                    break;
                case EventVerdict.Stop:
                    Stop();
                    return write;
            }

            read += length;
        }

        return write;
    }

    private EventVerdict Dispatch(ReadOnlySpan<byte> sseEvent)
    {
        var data = SseScanner.DataOf(sseEvent);
        if (!data.IsEmpty)
        {
            _completion.Observe(data);
        }

        foreach (var observer in observers)
        {
            var verdict = observer.OnEvent(sseEvent, data, _outbox);
            if (verdict != EventVerdict.Pass)
            {
                return verdict;
            }
        }

        return EventVerdict.Pass;
    }

    private void ObserveOversized(byte[] tail)
    {
        _completion.ObserveTail(tail);
        foreach (var observer in observers)
        {
            observer.OnOversizedEvent(tail);
        }
    }

    // The provider closed the stream cleanly. A last event without its blank line still counts (and gets one); then the
    // observers finish, and a stream that said it was finished gets [DONE] where its API has one, while one that did not
    // is truncated: it ends with an error event, never as if it were complete.
    private void End(ReadOnlySpan<byte> tail)
    {
        _ended = true;
        if (_scanner.InOversizedEvent)
        {
            // An event too large to hold passed through unheld and never got its blank line.
            ObserveOversized(_scanner.EndOversizedEvent(tail));
            _outbox.Write(tail);
            _outbox.Write(SseFrames.BlankLine);
        }
        else
        {
            var done = SseScanner.DoneLineIn(tail);
            if (!EndWith(tail[..done]) || !EndWith(tail[done..]))
            {
                return;
            }
        }

        foreach (var observer in observers)
        {
            if (observer.OnProviderEnd(_outbox) == EventVerdict.Stop)
            {
                Stop();
                return;
            }
        }

        var end = Closing();
        foreach (var observer in observers)
        {
            observer.OnStreamEnd(end);
        }
    }

    // One last event the provider did not end with a blank line; false when an observer stopped the stream on it.
    private bool EndWith(ReadOnlySpan<byte> last)
    {
        if (last.Trim(" \t\r\n"u8).IsEmpty)
        {
            return true;
        }

        byte[] sseEvent = [.. last.TrimEnd("\r\n"u8), .. SseFrames.BlankLine];
        switch (Dispatch(sseEvent))
        {
            case EventVerdict.Pass:
                _outbox.Write(sseEvent);
                return true;
            case EventVerdict.Hold:
                _outbox.Hold(sseEvent);
                return true;
            case EventVerdict.Stop:
                Stop();
                return false;
            default:
                return true;
        }
    }

    // What ends a stream the provider closed cleanly: [DONE] when a finish reason came without it, nothing when it came
    // or the stream ended on an error, else the truncation error event.
    private StreamEnd Closing()
    {
        if (_completion.SawDone || _completion.SawError)
        {
            return StreamEnd.Finished;
        }

        if (_completion.SawFinish)
        {
            if (endsWithDone)
            {
                _outbox.Write(SseFrames.Done);
            }

            return StreamEnd.Finished;
        }

        if (!Defer(StreamEnd.Truncated))
        {
            _outbox.Write(SseFrames.ProviderFailure(StreamEnd.Truncated, endOpenEvent: false));
        }

        return StreamEnd.Truncated;
    }

    // An observer ended the stream: what it queued goes out, nothing else.
    private void Stop()
    {
        _ended = true;
        _scanner.Clear();
        _outbox.DiscardHeld();
        foreach (var observer in observers)
        {
            observer.OnStreamEnd(StreamEnd.Stopped);
        }
    }

    // Nothing reached the client yet and the attempt loop runs (it keeps a transcript): a failure is left to YARP, which
    // reports it with the response untouched, so the loop retries as for any request.
    // (During a continuation the response YARP sees has not started, but the client's has: never then.)
    private const string DeadlineText = "The request's deadline passed.";

    // The provider keeps sending, but the request's time is up (a silent one is ended by the idle timeout). Not once the
    // provider has said it is done (a finish reason, [DONE] or its error event: the end comes next and is not turned
    // into a timeout). Before anything reached the client (a buffered stream) the attempt fails instead, and the attempt
    // loop answers 504 for the deadline.
    private bool DeadlinePassed()
        => _request is { DeadlineAt: > 0 } request && time.GetTimestamp() >= request.DeadlineAt && !_completion.Finished
;

    private async Task<int> EndAtDeadlineAsync()
    {
        if (RetryableBeforeStart())
        {
            throw new IOException(DeadlineText);
        }

        await FailAsync(new OperationCanceledException(DeadlineText));
        return 0;
    }

    private bool RetryableBeforeStart()
        => _request is { HoldFailure: true } && _request.Transcript is not { Recording: false } && !client.Response.HasStarted && !_outbox.HasPending
            && !_completion.Finished;

    // A stream the attempt loop can continue elsewhere (it keeps a transcript): the loop decides what the client gets
    // next — the rest of the answer from another target, or this error event when none can give it.
    private bool Defer(StreamEnd failure)
    {
        if (_request?.Transcript is not { Unsupported: false })
        {
            return false;
        }

        _request.StreamCut = failure;
        return true;
    }

    private async Task FinishAfterFailureAsync()
    {
        _scanner.Clear();
        foreach (var observer in observers)
        {
            observer.OnStreamEnd(StreamEnd.Finished);
        }

        if (!endsWithDone || _completion.SawDone)
        {
            return;
        }

        try
        {
            // The copy's token may be cancelled (idle timeout): what was queued and [DONE] are written to the client
            // directly, as the error event would be.
            _outbox.Write(SseFrames.Done);
            var buffer = new byte[4096];
            while (_outbox.HasPending)
            {
                await client.Response.Body.WriteAsync(buffer.AsMemory(0, _outbox.Take(buffer)), CancellationToken.None);
            }

            await client.Response.Body.FlushAsync(CancellationToken.None);
        }
        catch (Exception writeError) when (writeError is IOException or OperationCanceledException or ObjectDisposedException)
        {
            // The client is gone.
        }
    }

    private bool IsProviderFailure(Exception ex)
        => !ClientAborted.IsCancellationRequested && ex is IOException or HttpRequestException or OperationCanceledException;

    private async Task FailAsync(Exception ex)
    {
        _ended = true;
        if (_completion.SawFinish && !_scanner.InOversizedEvent)
        {
            // The answer was finished (a finish reason came) and only the end of the stream was lost: it ends as finished.
            await FinishAfterFailureAsync();
            return;
        }

        var failure = ex is OperationCanceledException ? StreamEnd.TimedOut : StreamEnd.Unreachable;
        var openEvent = _scanner.InOversizedEvent;
        _scanner.Clear();
        _outbox.Clear();
        var answered = false;
        foreach (var observer in observers)
        {
            if (await observer.OnProviderFailureAsync(failure))
            {
                answered = true;
                break;
            }
        }

        foreach (var observer in observers)
        {
            observer.OnStreamEnd(failure);
        }

        if (answered || (!openEvent && Defer(failure)))
        {
            return;
        }

        try
        {
            await client.Response.Body.WriteAsync(SseFrames.ProviderFailure(failure, openEvent), CancellationToken.None);
            await client.Response.Body.FlushAsync(CancellationToken.None);
        }
        catch (Exception writeError) when (writeError is IOException or OperationCanceledException or ObjectDisposedException)
        {
            // The client is gone too; nothing left to tell.
        }
    }
}
