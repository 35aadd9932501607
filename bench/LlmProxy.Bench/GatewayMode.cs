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

    /// <summary>
    /// The <see cref="RedisLimits"/> config without <c>redis</c>: the same request and token limits on the key and on
    /// the model, kept in the gateway's memory (one replica). Its request limit differs from the Redis setting's
    /// (<see cref="GatewayLimits"/>), so that answers tell the two apart.
    /// </summary>
    MemoryLimits,

    /// <summary>
    /// Metering on, no limits, and the bench model has two targets of equal weight: the fake upstream's failing variant
    /// (one request in five answered with 503) and the normal upstream. The gateway's attempt loop retries each 503 on
    /// the other target.
    /// </summary>
    Failover,
}
