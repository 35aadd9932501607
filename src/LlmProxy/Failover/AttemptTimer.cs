using LlmProxy.Hosting;

namespace LlmProxy.Failover;

/// <summary>
/// The token of one attempt: cancelled when the client leaves, when <c>first_byte_timeout</c> passes before the
/// provider's response headers arrived, when <c>first_token_timeout</c> passes before a stream's first text, or when the
/// request's deadline passes. <see cref="Fired"/> tells the timer's cancellations from the client's.
/// </summary>
internal sealed class AttemptTimer : IDisposable
{
    private readonly CancellationTokenSource _source = new();
    private readonly CancellationTokenRegistration _client;
    private readonly ITimer _timer;
    private readonly LlmRequestFeature _feature;
    private readonly TimeProvider _time;
    private readonly long _started;
    private readonly TimeSpan? _modelFirstByte;
    private long _firstByteAt;
    private readonly long _firstTokenAt;
    private readonly long _deadlineAt;
    private int _fired;

    /// <summary>
    /// Times one attempt. <paramref name="firstByte"/> is the model's first-byte limit; without one, the chosen target's
    /// provider's applies (<paramref name="shortestProviderFirstByte"/>, the shortest of them, is when to look first).
    /// </summary>
    public AttemptTimer(TimeProvider time, LlmRequestFeature feature, CancellationToken clientAborted, TimeSpan remaining, TimeSpan? firstByte,
        TimeSpan? shortestProviderFirstByte, TimeSpan? firstToken)
    {
        _time = time;
        _feature = feature;
        var now = time.GetTimestamp();
        _started = now;
        _modelFirstByte = firstByte;
        _deadlineAt = now + Ticks(remaining);
        _firstByteAt = (firstByte ?? shortestProviderFirstByte) is { } byteLimit ? now + Ticks(byteLimit) : long.MaxValue;
        _firstTokenAt = firstToken is { } tokenLimit ? now + Ticks(tokenLimit) : long.MaxValue;
        _client = clientAborted.UnsafeRegister(static state => ((CancellationTokenSource)state!).Cancel(), _source);
        _timer = time.CreateTimer(static state => ((AttemptTimer)state!).OnTimer(), this, Due(now), Timeout.InfiniteTimeSpan);
    }

    /// <summary>The attempt's token.</summary>
    public CancellationToken Token => _source.Token;

    /// <summary>True when a time limit of the attempt loop ended the attempt.</summary>
    public bool Fired => Volatile.Read(ref _fired) == 1;

    /// <inheritdoc/>
    public void Dispose()
    {
        _timer.Dispose();
        _client.Dispose();
        _source.Dispose();
    }

    private long Ticks(TimeSpan span) => span <= TimeSpan.Zero ? 0 : (long)(span.TotalSeconds * _time.TimestampFrequency);

    // The next limit still to watch: the first byte until the headers came, the first token until text came, the deadline always.
    private TimeSpan Due(long now)
    {
        var next = _deadlineAt;
        if (_feature.UpstreamHeaders == 0)
        {
            next = Math.Min(next, _firstByteAt);
        }

        if (_feature.FirstToken == 0)
        {
            next = Math.Min(next, _firstTokenAt);
        }

        return next <= now ? TimeSpan.Zero : TimeSpan.FromSeconds((double)(next - now) / _time.TimestampFrequency);
    }

    private void OnTimer()
    {
        var now = _time.GetTimestamp();
        if (_modelFirstByte is null && _firstByteAt != long.MaxValue && _feature.UpstreamHeaders == 0 && now >= _firstByteAt)
        {
            // No model limit: the chosen target's provider's (it may be longer than the shortest looked at first, or absent).
            _firstByteAt = _feature.Target?.Provider.FirstByteTimeout is { } providerLimit ? _started + Ticks(providerLimit) : long.MaxValue;
        }

        var late = now >= _deadlineAt
            || (_feature.UpstreamHeaders == 0 && now >= _firstByteAt)
            || (_feature.FirstToken == 0 && now >= _firstTokenAt);
        if (!late)
        {
            // The headers (or the first text) came in time: watch what is left.
            try
            {
                _timer.Change(Due(now), Timeout.InfiniteTimeSpan);
            }
            catch (ObjectDisposedException)
            {
                // The attempt ended as the timer fired.
            }

            return;
        }

        Volatile.Write(ref _fired, 1);
        try
        {
            _source.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // The attempt ended as the timer fired.
        }
    }
}
