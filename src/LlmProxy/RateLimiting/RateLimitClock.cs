namespace LlmProxy.RateLimiting;

/// <summary>
/// The clock of limit decisions. In production Redis decides with its own <c>TIME</c> (one clock for every replica)
/// and memory with <see cref="TimeProvider"/>; tests replace this to give both stores the same controlled time.
/// </summary>
public class RateLimitClock
{
    /// <summary>Milliseconds since the Unix epoch to decide with, or null to let Redis use its own clock.</summary>
    public virtual long? RedisNowMs() => null;
}
