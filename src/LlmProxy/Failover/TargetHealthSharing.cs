using System.Globalization;
using LlmProxy.Configuration;
using LlmProxy.RateLimiting;
using LlmProxy.Telemetry;
using StackExchange.Redis;

namespace LlmProxy.Failover;

/// <summary>
/// Shares circuit openings and <c>Retry-After</c> holds between replicas through Redis pub/sub, when the config has
/// Redis (the rate limiter's connection): a replica that opens a circuit publishes the target and for how long, and
/// every replica subscribed keeps the target out as long (an opened circuit, then its own probe). Publishing is fire
/// and forget: a request never waits for Redis. The subscription is (re)made in the background about every 250 ms
/// after a (re)connection or a new connection string; while Redis is down nothing is shared and each replica keeps its
/// own circuits. Durations, not times, cross the wire, so the replicas' clocks need not agree.
/// </summary>
internal sealed partial class TargetHealthSharing : BackgroundService
{
    /// <summary>The channel (hash-tagged like the limit keys).</summary>
    public static readonly RedisChannel Channel = RedisChannel.Literal("llmproxy:{health}:circuits");

    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(250);
    private static readonly TimeSpan Longest = TimeSpan.FromDays(1);

    private readonly TargetHealth _health;
    private readonly ConfigStore _store;
    private readonly RedisConnection _redis;
    private readonly TimeProvider _time;
    private readonly ILogger<TargetHealthSharing> _logger;
    private readonly string _origin = Guid.NewGuid().ToString("N");
    private IConnectionMultiplexer? _subscribed;

    public TargetHealthSharing(TargetHealth health, ConfigStore store, RedisConnection redis, TimeProvider time, ILogger<TargetHealthSharing> logger)
    {
        _health = health;
        _store = store;
        _redis = redis;
        _time = time;
        _logger = logger;
        health.Tripped += Publish;
    }

    /// <summary>The message for an opening (<paramref name="open"/>) or a hold of <paramref name="destinationId"/> for <paramref name="duration"/>.</summary>
    public static string Message(string origin, string destinationId, bool open, TimeSpan duration)
        => string.Create(CultureInfo.InvariantCulture, $"{origin}|{(open ? "open" : "hold")}|{(long)Math.Ceiling(duration.TotalMilliseconds)}|{destinationId}");

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await SubscribeAsync();
            }
            catch (Exception ex) when (ex is RedisException or TimeoutException or ObjectDisposedException or InvalidOperationException)
            {
                Log.Failed(_logger, ex.GetType().Name);
            }

            try
            {
                await Task.Delay(Poll, TimeProvider.System, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    // Subscribes on the current connection once (Redis' client subscribes again by itself after a reconnection).
    private async Task SubscribeAsync()
    {
        var snapshot = _store.Current;
        if (snapshot.RedisConnection is not { } connection)
        {
            return;
        }

        await _redis.StoreAsync(connection, snapshot.Config.Redis.TimeoutMs);
        if (_redis.Multiplexer is not { } multiplexer || ReferenceEquals(multiplexer, _subscribed))
        {
            return;
        }

        await multiplexer.GetSubscriber().SubscribeAsync(Channel, (_, message) => Receive(message));
        _subscribed = multiplexer;
    }

    private void Publish(string destinationId, bool open, TimeSpan duration)
    {
        if (_store.Current.RedisConnection is null || _redis.Multiplexer is not { } multiplexer)
        {
            return;
        }

        try
        {
            _ = multiplexer.GetSubscriber().PublishAsync(Channel, Message(_origin, destinationId, open, duration), CommandFlags.FireAndForget);
        }
        catch (Exception ex) when (ex is RedisException or ObjectDisposedException)
        {
            Log.Failed(_logger, ex.GetType().Name);
        }
    }

    // origin|open or hold|milliseconds|destination id (last: it may hold any character).
    private void Receive(RedisValue message)
    {
        var text = (string?)message;
        var parts = text?.Split('|', 4);
        if (parts is not { Length: 4 } || parts[0] == _origin
            || !long.TryParse(parts[2], NumberStyles.None, CultureInfo.InvariantCulture, out var milliseconds) || milliseconds <= 0)
        {
            return;
        }

        var snapshot = _store.Current;
        if (!snapshot.Targets.TryGetValue(parts[3], out var target))
        {
            // A target this replica's config does not have (a rollout in progress).
            return;
        }

        foreach (var model in snapshot.ModelList)
        {
            if (Array.IndexOf(model.Targets, target) >= 0)
            {
                var duration = TimeSpan.FromMilliseconds(milliseconds);
                _health.Share(model, target, parts[1] == "open", duration < Longest ? duration : Longest, _time.GetUtcNow());
                return;
            }
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = EventIds.HealthSharingFailed, Level = LogLevel.Debug, Message = "Target health not shared through Redis this time ({Failure}); retrying")]
        public static partial void Failed(ILogger logger, string failure);
    }
}
