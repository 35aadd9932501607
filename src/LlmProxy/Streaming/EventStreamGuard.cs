using LlmProxy.Errors;
using LlmProxy.RateLimiting;
using LlmProxy.Routing;
using LlmProxy.StructuredOutput;
using LlmProxy.Telemetry;
using LlmProxy.Usage;

namespace LlmProxy.Streaming;

/// <summary>
/// Wraps a provider's <c>text/event-stream</c> body so that a provider failure after the 200 (connection
/// reset, idle timeout) ends the client's stream with an OpenAI-shaped <c>data: {"error":…}</c> event instead
/// of a silent truncation. Complete events pass through as soon as they are read; only the unfinished tail of
/// an event waits for its blank line, so that a failure never leaves a half event before the error event.
/// </summary>
internal sealed class EventStreamGuard : PassThroughContent
{
    private readonly HttpContext _client;
    private readonly RequestMeter? _meter;
    private readonly TimeProvider _time;
    private readonly StreamValidation? _validation;

    /// <summary>
    /// Wraps <paramref name="inner"/>, the provider body being copied to <paramref name="client"/>'s response.
    /// With a <paramref name="meter"/>, each complete event is also read for usage, time to first token and text
    /// length, and the usage-only chunk the gateway asked for is left out. With a <paramref name="validation"/>,
    /// the answer is collected and its verdict sent as a comment before <c>[DONE]</c>.
    /// </summary>
    public EventStreamGuard(HttpContent inner, HttpContext client, RequestMeter? meter, TimeProvider time, StreamValidation? validation = null)
        : base(inner)
    {
        _client = client;
        _meter = meter;
        _time = time;
        _validation = validation;
    }

    /// <summary>
    /// The SSE error event that ends a stream the provider did not finish: it failed (connection reset), stalled
    /// (<paramref name="timedOut"/>), or closed cleanly without a finish reason (<paramref name="truncated"/>).
    /// </summary>
    internal static byte[] ErrorEvent(bool timedOut, bool needsTerminator, bool truncated = false)
    {
        var error = truncated ? LlmError.UpstreamError : timedOut ? LlmError.UpstreamTimeout : LlmError.UpstreamUnreachable;
        var message = truncated
            ? "The provider ended the stream before the answer was finished (no finish reason); the answer is incomplete."
            : timedOut
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
    protected override Stream Wrap(Stream providerBody) => new GuardStream(providerBody, _client, _meter, _time, _validation);

    // YARP copies this stream to the client. Complete events pass at once; the bytes of an event the provider
    // has not finished are held until its blank line, so a failure can drop them and end with a clean error
    // event (an event larger than YARP's buffer passes through unheld). On a provider failure the copy's token
    // may already be cancelled (idle timeout), so the error event is written to the client directly and the
    // copy then sees a clean end.
    private sealed class GuardStream(Stream providerBody, HttpContext client, RequestMeter? meter, TimeProvider time, StreamValidation? validation)
        : PassThroughStream(providerBody)
    {
        private const int BigEventTail = 16 * 1024;
        private byte[] _carry = [];
        private int _carryLength;
        private byte[]? _bigTail;
        private int _bigTailLength;
        private bool _midEvent;
        private bool _done;
        private bool _verdictSent;
        private bool _rejected;
        private byte[]? _verdict;
        private bool _ending;
        private long _generatedBytes;
        private MemoryStream? _held;
        private bool _unbuffered;
        private byte[]? _spill;
        private IReadOnlyList<Violation>? _retryPending;
        private readonly StreamCompletion _completion = new();

        // Events held at most (the same cap as a non-streamed answer checked whole).
        private const int MaxHeldBytes = 16 * 1024 * 1024;

        private bool Buffering => validation is { Buffered: true } && !_unbuffered;

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (_ending)
            {
                // Stopped early: what is held (the error event) goes out, then the copy ends and the provider's
                // connection is dropped, which stops its generation.
                await RetryIfPendingAsync();
                return _carryLength > 0 && !buffer.IsEmpty ? TakeCarry(buffer.Span) : 0;
            }

            if (_done)
            {
                return 0;
            }

            if (buffer.IsEmpty)
            {
                // YARP's zero-byte read: wait for data without taking a buffer.
                try
                {
                    return await Inner.ReadAsync(buffer, cancellationToken);
                }
                catch (Exception ex) when (IsProviderFailure(ex))
                {
                    await FailAsync(ex);
                    return 0;
                }
            }

            while (true)
            {
                var start = TakeCarry(buffer.Span);
                if (start == buffer.Length)
                {
                    StartBigEvent(buffer.Span[..start]);
                    return start;
                }

                int read;
                try
                {
                    read = await Inner.ReadAsync(buffer[start..], cancellationToken);
                }
                catch (Exception ex) when (IsProviderFailure(ex))
                {
                    // The held partial event is dropped: the client sees only whole events, then the error.
                    await FailAsync(ex);
                    return 0;
                }

                if (read == 0)
                {
                    // The provider ended; pass on whatever it sent last.
                    _done = true;
                    if (validation is not null && !_verdictSent && !_midEvent)
                    {
                        if (meter is not null)
                        {
                            meter.UpstreamEnd = time.GetTimestamp();
                        }

                        var ended = FinishAtEnd(buffer.Span, start);
                        if (_retryPending is null)
                        {
                            return ended;
                        }

                        await RetryIfPendingAsync();
                        return TakeCarry(buffer.Span);
                    }

                    if (meter is not null)
                    {
                        meter.UpstreamEnd = time.GetTimestamp();
                    }

                    return EndCleanly(buffer.Span, start);
                }

                var total = start + read;
                if (_midEvent && StraddledEnd(buffer.Span[..total]) is var straddle and > 0)
                {
                    // The big event's blank line began in what already went out ("\n") and ends here.
                    _midEvent = false;
                    ObserveBigEvent(buffer.Span[..straddle]);
                    var after = EndOfLastEvent(buffer.Span[straddle..total]);
                    Hold(buffer.Span[(straddle + after)..total]);
                    return straddle + Observe(buffer.Span[straddle..(straddle + after)]);
                }

                var boundary = EndOfLastEvent(buffer.Span[..total]);
                if (_midEvent)
                {
                    // Part of this event already went out: nothing is gained by holding the rest.
                    if (boundary == 0)
                    {
                        KeepBigTail(buffer.Span[..total]);
                        return total;
                    }

                    _midEvent = false;
                    Hold(buffer.Span[boundary..total]);
                    var restOfBigEvent = EndOfFirstEvent(buffer.Span[..boundary]);
                    ObserveBigEvent(buffer.Span[..restOfBigEvent]);
                    return restOfBigEvent + Observe(buffer.Span[restOfBigEvent..boundary]);
                }

                if (boundary > 0)
                {
                    Hold(buffer.Span[boundary..total]);
                    var kept = Observe(buffer.Span[..boundary]);
                    if (_ending)
                    {
                        await RetryIfPendingAsync();
                        return kept > 0 ? kept : TakeCarry(buffer.Span);
                    }

                    if (kept > 0)
                    {
                        return kept;
                    }

                    // Only the stripped usage chunk: nothing to pass on yet.
                    continue;
                }

                if (total == buffer.Length)
                {
                    // One event larger than the buffer: let it through, keeping its tail for the usage it may end with.
                    StartBigEvent(buffer.Span[..total]);
                    return total;
                }

                // Nothing complete yet: keep it and read on.
                Hold(buffer.Span[..total]);
            }
        }

        // Index just after the last blank line ("\n\n" or "\n\r\n"), or 0 when the bytes hold none.
        private static int EndOfLastEvent(ReadOnlySpan<byte> bytes)
        {
            var lf = bytes.LastIndexOf("\n\n"u8);
            var crlf = bytes.LastIndexOf("\n\r\n"u8);
            return Math.Max(lf < 0 ? 0 : lf + 2, crlf < 0 ? 0 : crlf + 3);
        }

        private bool IsProviderFailure(Exception ex)
            => !client.RequestAborted.IsCancellationRequested && ex is IOException or HttpRequestException or OperationCanceledException;

        private int TakeCarry(Span<byte> destination)
        {
            var count = Math.Min(_carryLength, destination.Length);
            _carry.AsSpan(0, count).CopyTo(destination);
            _carry.AsSpan(count, _carryLength - count).CopyTo(_carry);
            _carryLength -= count;
            return count;
        }

        private void Hold(ReadOnlySpan<byte> bytes)
        {
            if (_carry.Length < _carryLength + bytes.Length)
            {
                Array.Resize(ref _carry, Math.Max(1024, (_carryLength + bytes.Length) * 2));
            }

            bytes.CopyTo(_carry.AsSpan(_carryLength));
            _carryLength += bytes.Length;
        }

        // A buffered stream whose answer failed: nothing has gone out yet, so the client gets a 422 JSON error instead
        // (if something did go out — an event too large to hold — the stream ends with the SSE error event).
        private void RespondWithError(IReadOnlyList<Violation> violations)
        {
            _ending = true;
            _carryLength = 0;
            if (validation!.CanRetry && !client.Response.HasStarted)
            {
                // Asked again from ReadAsync (it can await); nothing has gone out yet.
                _retryPending = violations;
                return;
            }

            var error = StreamValidation.ErrorJson(violations);
            if (!client.Response.HasStarted)
            {
                client.Response.StatusCode = StatusCodes.Status422UnprocessableEntity;
                client.Response.ContentType = "application/json";
                client.Response.Headers.ContentLength = null;
                Hold(error);
            }
            else
            {
                Hold([.. ": llmproxy-validation failed\n\ndata: "u8, .. error, .. "\n\n"u8]);
            }
        }

        // retry with stream_mode buffer: ask again (next target or the same, with the repair turn) until an answer fits,
        // then send its events; else the 422. Each retried stream is read whole and metered.
        private async Task RetryIfPendingAsync()
        {
            if (_retryPending is not { } violations)
            {
                return;
            }

            _retryPending = null;
            var feature = client.Features.Get<LlmRequestFeature>()!;
            var expectation = validation!.Expectation;
            var target = feature.Target!;
            var invalid = validation.Collector.ToCompletion();
            var verdict = new Verdict(Verdict.Failed, violations, null);
            while (validation.CanRetry)
            {
                validation.Restart();
                client.Response.Headers[ValidatedJsonResponse.AttemptsHeader] = validation.Attempts.ToString(System.Globalization.CultureInfo.InvariantCulture);
                (target, var body) = await RetrySender.TryNextAsync(client, feature, target, expectation, invalid, verdict);
                if (body is null)
                {
                    break;
                }

                var events = new MemoryStream();
                foreach (var sseEvent in Events(body))
                {
                    var data = DataOf(sseEvent);
                    if (data.IsEmpty || data.SequenceEqual("[DONE]"u8))
                    {
                        continue;
                    }

                    validation.Collector.Add(data);
                    if (meter is not null)
                    {
                        UsageReader.ReadEvent(data, meter, out var usageChunk, out _);
                        if (usageChunk && meter.StripUsageChunk)
                        {
                            continue;
                        }
                    }

                    events.Write(sseEvent);
                    events.Write("\n\n"u8);
                }

                var end = validation.Finish(out var ends);
                if (!ends)
                {
                    if (meter is not null)
                    {
                        meter.GatewayError = null;
                    }

                    _carryLength = 0;
                    Hold([.. events.ToArray(), .. end, .. "data: [DONE]\n\n"u8]);
                    return;
                }

                invalid = validation.Collector.ToCompletion();
                verdict = new Verdict(Verdict.Failed, validation.Violations, null);
            }

            _carryLength = 0;
            client.Response.StatusCode = StatusCodes.Status422UnprocessableEntity;
            client.Response.ContentType = "application/json";
            client.Response.Headers.ContentLength = null;
            Hold(StreamValidation.ErrorJson(verdict.Violations));
        }

        // The events of a whole SSE body (without their blank lines).
        private static IEnumerable<byte[]> Events(byte[] body)
        {
            var text = body.AsMemory();
            while (text.Length > 0)
            {
                var end = EndOfFirstEvent(text.Span);
                var length = end == 0 ? text.Length : end;
                var sseEvent = text[..length].Span.TrimEnd("\r\n"u8).ToArray();
                if (sseEvent.Length > 0)
                {
                    yield return sseEvent;
                }

                text = text[length..];
            }
        }

        // The provider ended (with or without [DONE], maybe without a last blank line) before a verdict was sent: the
        // last bytes are read as events, the answer validated, and what is left to send goes out from the carry.
        private int FinishAtEnd(Span<byte> buffer, int start)
        {
            var leftover = buffer[..start].ToArray();
            var done = IndexOfDone(leftover);
            var last = done >= 0 ? leftover[..done] : leftover;
            byte[] pass = [];
            if (last.AsSpan().Trim(" \t\r\n"u8).Length > 0)
            {
                var lastEvent = last.AsSpan().TrimEnd("\r\n"u8).ToArray();
                if (ObserveEvent(lastEvent) && !Buffering)
                {
                    pass = [.. lastEvent, .. "\n\n"u8];
                }

                if (_ending)
                {
                    return TakeCarry(buffer);
                }
            }

            _verdictSent = true;
            var end = validation!.Finish(out var ends);
            if (ends && meter is not null)
            {
                meter.GatewayError ??= LlmError.StructuredOutputInvalid;
            }

            _carryLength = 0;
            if (Buffering && ends)
            {
                RespondWithError(validation.Violations);
                return TakeCarry(buffer);
            }

            var held = Buffering ? _held?.ToArray() ?? [] : Array.Empty<byte>();
            Hold([.. held, .. pass, .. end, .. (ends ? [] : done >= 0 ? "data: [DONE]\n\n"u8 : Closing())]);
            _ending = true;
            return TakeCarry(buffer);
        }

        // The provider closed the stream cleanly. A last event without its blank line still counts (and gets one);
        // then a stream that said it was finished is finalised with [DONE] where its API has one, and one that did
        // not is truncated: it ends with an error event, never as if it were complete.
        private int EndCleanly(Span<byte> buffer, int start)
        {
            // What is held may start with whole events already read (a verdict, [DONE]); only what follows the last
            // blank line is an event the provider did not finish.
            var held = buffer[..start];
            var boundary = _midEvent ? 0 : EndOfLastEvent(held);
            var last = held[boundary..];
            byte[] pass = [.. held[..boundary]];
            if (_midEvent)
            {
                // A big event passed through unheld and never got its blank line.
                ObserveBigEvent(last);
                pass = [.. last, .. "\n\n"u8];
            }
            else if (last.Trim(" \t\r\n"u8).Length > 0 && ObserveEvent(last.TrimEnd("\r\n"u8)))
            {
                pass = [.. pass, .. last.TrimEnd("\r\n"u8), .. "\n\n"u8];
            }

            Hold([.. pass, .. Closing()]);
            _ending = true;
            return TakeCarry(buffer);
        }

        // What ends a stream the provider closed cleanly: [DONE] when a finish reason came without it (chat and
        // completions streams end with one), nothing when it came or the stream ended on an error, else the error event.
        private byte[] Closing()
        {
            if (_completion.SawDone || _completion.SawError)
            {
                return [];
            }

            if (_completion.SawFinish)
            {
                var operation = client.Features.Get<LlmRequestFeature>()?.OperationPath;
                return operation is "/chat/completions" or "/completions" ? "data: [DONE]\n\n"u8.ToArray() : [];
            }

            if (meter is not null)
            {
                meter.StreamFailure = ErrorCategory.UpstreamError;
            }

            return ErrorEvent(timedOut: false, needsTerminator: false, truncated: true);
        }


        // Where a "data: [DONE]" line starts in the bytes, or -1.
        private static int IndexOfDone(ReadOnlySpan<byte> bytes)
        {
            var at = bytes.IndexOf("data: [DONE]"u8);
            return at == 0 || (at > 0 && bytes[at - 1] == '\n') ? at : -1;
        }

        private void StopEarly()
        {
            var feature = client.Features.Get<LlmRequestFeature>();
            var cap = feature is null ? 0
                : client.RequestServices.GetRequiredService<TokenEstimator>().Count(feature.Body, feature.Target?.UpstreamModel ?? feature.Request.Model, producesText: true,
                    feature.Snapshot.Limits.Settings.DefaultMaxTokens).MaxOutput;
            var generated = meter is not null ? (meter.GeneratedTextBytes + 3) / 4 : _generatedBytes / 16;
            if (Buffering)
            {
                validation!.Abort(generated, cap);
                _verdictSent = true;
                if (meter is not null)
                {
                    meter.GatewayError ??= LlmError.StructuredOutputInvalid;
                }

                RespondWithError([validation.EarlyViolation!]);
                return;
            }

            _ending = true;
            _verdictSent = true;
            _carryLength = 0;
            Hold(validation!.Abort(generated, cap));
            if (meter is not null)
            {
                meter.GatewayError ??= LlmError.StructuredOutputInvalid;
            }
        }

        // Puts bytes in front of what is held: they go out first on the next read.
        private void HoldFirst(ReadOnlySpan<byte> first, ReadOnlySpan<byte> second)
        {
            var held = _carry.AsSpan(0, _carryLength).ToArray();
            _carryLength = 0;
            Hold(first);
            Hold(second);
            Hold(held);
        }

        // How many bytes at the start of this read finish a big event whose blank line began in the bytes already passed
        // on (they ended with "\n" or "\n\r"); 0 when it does not end here.
        private int StraddledEnd(ReadOnlySpan<byte> bytes)
        {
            if (_bigTail is null || _bigTailLength == 0 || bytes.IsEmpty)
            {
                return 0;
            }

            var last = _bigTail[_bigTailLength - 1];
            var beforeLast = _bigTailLength > 1 ? _bigTail[_bigTailLength - 2] : (byte)0;
            if (last == '\n')
            {
                return bytes[0] == '\n' ? 1 : bytes.StartsWith("\r\n"u8) ? 2 : 0;
            }

            return last == '\r' && beforeLast == '\n' && bytes[0] == '\n' ? 1 : 0;
        }

        // The first bytes of an event too large to hold: its type (a Responses API event) is at its start.
        private void StartBigEvent(ReadOnlySpan<byte> bytes)
        {
            if (!_midEvent)
            {
                _completion.Observe(DataOf(bytes));
            }

            _midEvent = true;
            KeepBigTail(bytes);
        }

        // Keeps the last BigEventTail bytes of an event that is passing through unheld.
        private void KeepBigTail(ReadOnlySpan<byte> bytes)
        {
            validation?.Collector.MarkIncomplete();
            _bigTail ??= new byte[BigEventTail];
            if (bytes.Length >= BigEventTail)
            {
                bytes[^BigEventTail..].CopyTo(_bigTail);
                _bigTailLength = BigEventTail;
                return;
            }

            var keep = Math.Min(_bigTailLength, BigEventTail - bytes.Length);
            _bigTail.AsSpan(_bigTailLength - keep, keep).CopyTo(_bigTail);
            bytes.CopyTo(_bigTail.AsSpan(keep));
            _bigTailLength = keep + bytes.Length;
        }

        // A big event ended (a Responses API response.completed repeating a long output): read its usage from the tail.
        private void ObserveBigEvent(ReadOnlySpan<byte> end)
        {
            if (_bigTail is null)
            {
                return;
            }

            var fragment = new byte[_bigTailLength + end.Length];
            _bigTail.AsSpan(0, _bigTailLength).CopyTo(fragment);
            end.CopyTo(fragment.AsSpan(_bigTailLength));
            _bigTailLength = 0;
            _completion.ObserveTail(fragment);
            if (meter is not null)
            {
                UsageReader.ReadLastUsage(fragment, meter);
            }
        }

        // Reads each complete event for the meter and drops the usage-only chunk the client did not ask for.
        // Returns the length of what is left at the start of the span.
        private int Observe(Span<byte> events)
        {
            var write = 0;
            var read = 0;
            while (read < events.Length)
            {
                var end = EndOfFirstEvent(events[read..]);
                var length = end == 0 ? events.Length - read : end;
                var keep = ObserveEvent(events.Slice(read, length));
                if (_ending)
                {
                    // The stream can no longer be valid: nothing after this point goes out but the error.
                    return write;
                }

                if (_spill is { } spill)
                {
                    // Buffering stopped: the held events, then the rest of this batch, go out in order from the carry.
                    _spill = null;
                    HoldFirst(spill, events[(read + length)..]);
                    return write;
                }

                if (keep)
                {
                    if (write != read)
                    {
                        events.Slice(read, length).CopyTo(events[write..]);
                    }

                    write += length;
                }
                else if (_verdict is { } comment)
                {
                    // [DONE] goes out after the verdict comment, from the carry; a rejected stream ends with the error instead.
                    _verdict = null;
                    HoldFirst(comment, _rejected ? [] : events.Slice(read, length));
                }

                read += length;
            }

            return write;
        }

        private bool ObserveEvent(ReadOnlySpan<byte> sseEvent)
        {
            var data = DataOf(sseEvent);
            if (!data.IsEmpty)
            {
                _completion.Observe(data);
            }

            if (data.IsEmpty)
            {
                if (Buffering && !_verdictSent)
                {
                    // Comments and keep-alives are held with the rest, so nothing starts the response early.
                    (_held ??= new MemoryStream()).Write(sseEvent);
                    return false;
                }

                return true;
            }

            if (data.SequenceEqual("[DONE]"u8))
            {
                if (validation is null || _verdictSent)
                {
                    return true;
                }

                _verdictSent = true;
                _verdict = validation.Finish(out _rejected);
                if (_rejected && meter is not null)
                {
                    meter.GatewayError ??= LlmError.StructuredOutputInvalid;
                }

                if (Buffering)
                {
                    if (_rejected)
                    {
                        _verdict = null;
                        RespondWithError(validation.Violations);
                    }
                    else
                    {
                        // The held events go out first, then the verdict and [DONE].
                        _verdict = [.. _held?.ToArray() ?? [], .. _verdict];
                    }
                }

                return false;
            }

            if (validation is not null)
            {
                validation.Collector.Add(data);
                _generatedBytes += data.Length;
                if (validation.EarlyViolation is not null)
                {
                    StopEarly();
                    return false;
                }

                if (Buffering)
                {
                    // Held until the answer is validated; metered now all the same (the injected usage chunk is not held).
                    var usageChunk = false;
                    if (meter is not null)
                    {
                        UsageReader.ReadEvent(data, meter, out usageChunk, out var text);
                        if (text && meter.FirstToken == 0)
                        {
                            meter.FirstToken = time.GetTimestamp();
                        }
                    }

                    if (!(usageChunk && meter!.StripUsageChunk))
                    {
                        (_held ??= new MemoryStream()).Write(sseEvent);
                    }

                    if (_held is { Length: > MaxHeldBytes } held)
                    {
                        // Too much to hold: what is held goes out now and the rest passes through, checked as it goes.
                        _unbuffered = true;
                        _spill = held.ToArray();
                        _held = null;
                    }

                    return false;
                }
            }

            if (meter is null)
            {
                return true;
            }

            UsageReader.ReadEvent(data, meter, out var usageOnly, out var hasText);
            if (hasText && meter!.FirstToken == 0)
            {
                meter.FirstToken = time.GetTimestamp();
            }

            return !(usageOnly && meter!.StripUsageChunk);
        }

        // The payload of the event's (first) data line.
        private static ReadOnlySpan<byte> DataOf(ReadOnlySpan<byte> sseEvent)
        {
            var at = sseEvent.IndexOf("data:"u8);
            if (at < 0 || (at > 0 && sseEvent[at - 1] != '\n'))
            {
                return [];
            }

            var data = sseEvent[(at + 5)..];
            var lineEnd = data.IndexOfAny((byte)'\r', (byte)'\n');
            return (lineEnd < 0 ? data : data[..lineEnd]).TrimStart((byte)' ');
        }

        // Index just after the first blank line, or 0 when there is none.
        private static int EndOfFirstEvent(ReadOnlySpan<byte> bytes)
        {
            var lf = bytes.IndexOf("\n\n"u8);
            var crlf = bytes.IndexOf("\n\r\n"u8);
            if (lf < 0 && crlf < 0)
            {
                return 0;
            }

            return lf >= 0 && (crlf < 0 || lf <= crlf) ? lf + 2 : crlf + 3;
        }

        private async Task FailAsync(Exception ex)
        {
            _done = true;
            _carryLength = 0;
            if (meter is not null)
            {
                meter.UpstreamEnd = time.GetTimestamp();
                meter.StreamFailure = ex is OperationCanceledException ? ErrorCategory.UpstreamTimeout : ErrorCategory.UpstreamUnreachable;
            }

            var errorEvent = ErrorEvent(timedOut: ex is OperationCanceledException, needsTerminator: _midEvent);
            if (Buffering && !client.Response.HasStarted)
            {
                // Nothing of a buffered answer went out: the client gets the plain JSON error a non-streamed request would.
                client.Response.Headers.ContentLength = null;
                await ErrorWriter.WriteAsync(client, ex is OperationCanceledException ? LlmError.UpstreamTimeout : LlmError.UpstreamUnreachable,
                    ex is OperationCanceledException ? "The provider stopped sending before the answer was complete (timeout)."
                        : "The provider's connection failed before the answer was complete.");
                return;
            }

            try
            {
                await client.Response.Body.WriteAsync(errorEvent, CancellationToken.None);
                await client.Response.Body.FlushAsync(CancellationToken.None);
            }
            catch (Exception writeError) when (writeError is IOException or OperationCanceledException or ObjectDisposedException)
            {
                // The client is gone too; nothing left to tell.
            }
        }
    }
}
