using LlmProxy.Telemetry;
using OpenTelemetry.Instrumentation.StackExchangeRedis;
using StackExchange.Redis;

namespace LlmProxy.RateLimiting;

/// <summary>
/// The gateway's one Redis connection for the configured connection string. It connects in the background, so the
/// gateway starts (and answers, by its failure policy) while Redis is down, and it reconnects by itself. A new
/// connection string from a config reload replaces the connection. When traces are exported, every connection it
/// makes is handed to the OpenTelemetry Redis instrumentation (one span per command, in the request's trace).
/// Each connection has its own <see cref="RedisCircuit"/>.
/// </summary>
public sealed partial class RedisConnection : IDisposable
{
    /// <summary>The least a request waits for its reply while Redis is answering (see <see cref="ReplyWait"/>).</summary>
    public const int MinimumReplyWaitMs = 250;

    private readonly Lock _gate = new();
    private readonly ILogger<RedisConnection> _logger;
    private readonly RateLimitClock _clock;
    private readonly TimeProvider _time;
    private string? _connectionString;
    private ConnectionMultiplexer? _multiplexer;
    private RedisLimitStore? _store;
    private Task _connecting = Task.CompletedTask;
    private bool _disposed;
    private StackExchangeRedisInstrumentation? _tracing;
    private IDisposable? _traced;

    /// <summary>Creates the (not yet connected) holder.</summary>
    public RedisConnection(ILogger<RedisConnection> logger, RateLimitClock clock, TimeProvider time)
    {
        _logger = logger;
        _clock = clock;
        _time = time;
        // Read and write Redis on the client's own threads: on the thread pool a reply waits behind the burst it is
        // part of, and one that Redis gave in time would reach the request after its wait had ended (measured: 200
        // requests on three replicas, replies read up to 0.8 s late on a loaded machine, some turned into fail-open).
        ConnectionMultiplexer.SetFeatureFlag("DedicatedThreads", true);
    }

    /// <summary>
    /// How long a request waits for its own reply while the connection is up and its circuit closed:
    /// <c>redis.timeout_ms</c>, but at least <see cref="MinimumReplyWaitMs"/>. A reply slowed by a burst is a
    /// healthy Redis answering late: waiting for it keeps the limits exact; only no reply by then is a failure.
    /// </summary>
    public static TimeSpan ReplyWait(int timeoutMs) => TimeSpan.FromMilliseconds(Math.Max(MinimumReplyWaitMs, timeoutMs));

    /// <summary>
    /// The store on a connected Redis, or null while it is not connected. While the first connection attempt is
    /// under way (start-up, a new connection string), waits for it at most <paramref name="timeoutMs"/>.
    /// </summary>
    public async ValueTask<RedisLimitStore?> StoreAsync(string connectionString, int timeoutMs)
    {
        if (!ReferenceEquals(connectionString, _connectionString) && connectionString != _connectionString)
        {
            Replace(connectionString, timeoutMs);
        }

        var connecting = _connecting;
        if (!connecting.IsCompleted)
        {
            try
            {
                await connecting.WaitAsync(TimeSpan.FromMilliseconds(timeoutMs));
            }
            catch (Exception ex) when (ex is TimeoutException or RedisException)
            {
                return null;
            }
        }

        return _multiplexer is { IsConnected: true } ? _store : null;
    }

    /// <summary>The current connection while it is connected (for pub/sub beside the limit store), else null.</summary>
    public IConnectionMultiplexer? Multiplexer => _multiplexer is { IsConnected: true } multiplexer ? multiplexer : null;

    /// <summary>Starts connecting (at start-up and after a reload) so the first request does not pay for it.</summary>
    public void Warm(string? connectionString, int timeoutMs)
    {
        if (connectionString is not null && connectionString != _connectionString)
        {
            Replace(connectionString, timeoutMs);
        }
    }

    /// <summary>
    /// Traces the commands of the current and every later connection with <paramref name="instrumentation"/> (called
    /// once, when the tracer provider is built with the Redis instrumentation).
    /// </summary>
    public void TraceWith(StackExchangeRedisInstrumentation instrumentation)
    {
        lock (_gate)
        {
            _tracing = instrumentation;
            if (_multiplexer is not null && _traced is null)
            {
                _traced = instrumentation.AddConnection(_multiplexer);
            }
        }
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        lock (_gate)
        {
            _disposed = true;
            _traced?.Dispose();
            _traced = null;
            _multiplexer?.Dispose();
            _multiplexer = null;
        }
    }

    private void Replace(string connectionString, int timeoutMs)
    {
        lock (_gate)
        {
            if (_disposed || connectionString == _connectionString)
            {
                return;
            }

            _connectionString = connectionString;
            var old = _multiplexer;
            var oldTraced = _traced;
            _multiplexer = null;
            _store = null;
            _traced = null;
            if (old is not null)
            {
                // Requests admitted on the old connection may still settle on it (and their commands still become
                // spans): close it, and stop tracing it, a little later.
                _ = Task.Delay(TimeSpan.FromSeconds(30)).ContinueWith(_ =>
                {
                    oldTraced?.Dispose();
                    old.Dispose();
                }, TaskScheduler.Default);
            }

            ConfigurationOptions options;
            try
            {
                options = ConfigurationOptions.Parse(connectionString);
            }
            catch (ArgumentException)
            {
                // The message could quote the string, password included: say only that it is wrong.
                Log.BadConnectionString(_logger);
                return;
            }

            options.AbortOnConnectFail = false;
            options.ConnectTimeout = Math.Max(1000, timeoutMs);
            // The client's own timeouts are raised on a heartbeat about once a second: they must not fail a request
            // before it stops waiting, and a reply that still arrives after that lets a given-up admission be undone.
            options.AsyncTimeout = (int)ReplyWait(timeoutMs).TotalMilliseconds + 1000;
            options.SyncTimeout = options.AsyncTimeout;
            options.ReconnectRetryPolicy = new LinearRetry(500);
            options.ClientName ??= "llmproxy";
            _connecting = ConnectAsync(options, connectionString);
        }
    }

    private async Task ConnectAsync(ConfigurationOptions options, string connectionString)
    {
        // With AbortOnConnectFail off this returns after the first attempt, connected or not, and keeps retrying.
        ConnectionMultiplexer multiplexer;
        try
        {
            multiplexer = await ConnectionMultiplexer.ConnectAsync(options);
        }
        catch (RedisException ex)
        {
            Log.Lost(_logger, ex.GetType().Name);
            return;
        }

        multiplexer.ConnectionFailed += (_, e) => Log.Lost(_logger, e.FailureType.ToString());
        multiplexer.ConnectionRestored += (_, _) =>
        {
            Log.Restored(_logger);
            // A restarted Redis has lost its scripts.
            _ = RedisLimitStore.LoadScriptsAsync(multiplexer);
        };
        await RedisLimitStore.LoadScriptsAsync(multiplexer);
        lock (_gate)
        {
            if (_disposed || connectionString != _connectionString)
            {
                multiplexer.Dispose();
                return;
            }

            _multiplexer = multiplexer;
            _store = new RedisLimitStore(multiplexer.GetDatabase(), _clock, new RedisCircuit(_time));
            _traced = _tracing?.AddConnection(multiplexer);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = EventIds.RedisLost, Level = LogLevel.Warning, Message = "Redis connection lost ({Failure}); limits follow redis.on_failure until it is back")]
        public static partial void Lost(ILogger logger, string failure);

        [LoggerMessage(EventId = EventIds.RedisRestored, Level = LogLevel.Information, Message = "Redis connection restored; limits are shared again")]
        public static partial void Restored(ILogger logger);

        [LoggerMessage(EventId = EventIds.RedisBadConnectionString, Level = LogLevel.Error, Message = "redis.connection cannot be parsed; limits follow redis.on_failure")]
        public static partial void BadConnectionString(ILogger logger);
    }
}
