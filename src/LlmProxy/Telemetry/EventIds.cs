namespace LlmProxy.Telemetry;

/// <summary>Stable log event ids, one table for the whole gateway.</summary>
internal static class EventIds
{
    public const int ConfigLoaded = 1001;
    public const int ConfigInvalid = 1002;
    public const int ConfigReloadRejected = 1003;
    public const int ConfigWarning = 1004;
    public const int ConfigWatchFailed = 1005;
    public const int SimulatorStarted = 1101;
    public const int RequestCompleted = 3001;
    public const int RequestBodies = 3002;
    public const int MeteringFailed = 3003;
    public const int RedisLost = 4001;
    public const int RedisRestored = 4002;
    public const int RedisBadConnectionString = 4003;
    public const int RateLimitFallback = 4004;
    public const int RateLimitSettleFailed = 4005;
    public const int ValidationFailed = 5001;
    public const int AttemptFailed = 6001;
    public const int StreamContinuation = 6002;
    public const int CircuitOpened = 6010;
    public const int CircuitClosed = 6011;
    public const int HealthSharingFailed = 6012;
}
