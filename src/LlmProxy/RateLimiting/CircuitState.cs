namespace LlmProxy.RateLimiting;

/// <summary>Where <see cref="RedisCircuit"/> stands, and what it tells one call.</summary>
public enum CircuitState
{
    /// <summary>Redis answers: calls go to it and wait for their reply.</summary>
    Closed,

    /// <summary>Redis stopped answering: calls take <c>redis.on_failure</c> at once, without trying it.</summary>
    Open,

    /// <summary>The open period is over: one call (the probe) tries Redis; its outcome closes or reopens the circuit.</summary>
    HalfOpen,
}
