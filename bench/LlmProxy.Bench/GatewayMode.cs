namespace LlmProxy.Bench;

/// <summary>The settings the one measured gateway is switched between.</summary>
internal enum GatewayMode
{
    /// <summary>Metering on, no limits.</summary>
    MeteringOn,

    /// <summary>Metering off, no limits.</summary>
    MeteringOff,

    /// <summary>Metering on, and per-key and per-model request and token limits kept in Redis.</summary>
    RedisLimits,
}
