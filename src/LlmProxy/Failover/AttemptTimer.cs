using LlmProxy.Hosting;

namespace LlmProxy.Failover;

/// <summary>
/// The token of one attempt: cancelled when the client leaves, when <c>first_byte_timeout</c> passes before the
/// provider's response headers arrived, or when the request's deadline passes. <see cref="Fired"/> tells the timer's
/// cancellations from the client's.
/// </summary>
internal sealed class AttemptTimer : IDisposable
{
    private readonly CancellationTokenSource _source = new();
    private readonly CancellationTokenRegistration _client;
    private readonly ITimer _timer;
    private readonly LlmRequestFeature _feature;
    private readonly TimeProvider _time;
    private readonly long _deadline;
    private int _fired;

    public AttemptTimer(TimeProvider time, LlmRequestFeature feature, CancellationToken clientAborted, TimeSpan remaining, TimeSpan? firstByte)
    {
        _time = time;
        _feature = feature;
        _deadline = time.GetTimestamp() + (long)(remaining.TotalSeconds * time.TimestampFrequency);
        _client = clientAborted.UnsafeRegister(static state => ((CancellationTokenSource)state!).Cancel(), _source);
        var due = firstByte is { } limit && limit < remaining ? limit : remaining;
        _timer = time.CreateTimer(static state => ((AttemptTimer)state!).OnTimer(), this, due < TimeSpan.Zero ? TimeSpan.Zero : due, Timeout.InfiniteTimeSpan);
    }

    /// <summary>The attempt's token.</summary>
    public CancellationToken Token => _source.Token;

    /// <summary>True when the first-byte timeout or the deadline ended the attempt.</summary>
    public bool Fired => Volatile.Read(ref _fired) == 1;

    /// <inheritdoc/>
    public void Dispose()
    {
        _timer.Dispose();
        _client.Dispose();
        _source.Dispose();
    }

    private void OnTimer()
    {
        var left = _deadline - _time.GetTimestamp();
        if (_feature.UpstreamHeaders != 0 && left > 0)
        {
            // The headers came in time: only the deadline is left to watch (the idle timeout watches the body).
            _timer.Change(TimeSpan.FromSeconds((double)left / _time.TimestampFrequency), Timeout.InfiniteTimeSpan);
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
