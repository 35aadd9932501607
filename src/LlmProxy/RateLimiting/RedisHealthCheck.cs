using LlmProxy.Configuration;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using StackExchange.Redis;

namespace LlmProxy.RateLimiting;

/// <summary>
/// Readiness of the limit store: healthy without Redis (limits in memory) or with Redis connected and answering (its
/// circuit closed); otherwise degraded under fail-open (still ready: requests are admitted) and unhealthy under
/// fail-closed. When the circuit's open period is over the check is the probe (a PING), so a replica taken out of
/// service by its readiness, and so sent no requests, still finds Redis back.
/// </summary>
internal sealed class RedisHealthCheck(ConfigStore store, RedisConnection redis, TimeProvider time) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var snapshot = store.Current;
        if (snapshot.RedisConnection is not { } connection)
        {
            return HealthCheckResult.Healthy("limits in memory (no redis.connection)");
        }

        var settings = snapshot.Config.Redis;
        if (await redis.StoreAsync(connection, settings.TimeoutMs) is { } limits && await AnswersAsync(limits, settings.TimeoutMs))
        {
            return HealthCheckResult.Healthy("redis connected");
        }

        return settings.OnFailure == RedisFailurePolicy.FailOpen
            ? HealthCheckResult.Degraded("redis unreachable; failing open (limits counted per replica)")
            : HealthCheckResult.Unhealthy("redis unreachable; failing closed (limited requests get 503)");
    }

    private async Task<bool> AnswersAsync(RedisLimitStore limits, int timeoutMs)
    {
        var pass = limits.Circuit.Enter();
        if (pass != CircuitState.HalfOpen)
        {
            return pass == CircuitState.Closed;
        }

        try
        {
            await limits.PingAsync().WaitAsync(RedisConnection.ReplyWait(timeoutMs), time);
            limits.Circuit.Succeeded();
            return true;
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException or ObjectDisposedException)
        {
            limits.Circuit.Failed();
            return false;
        }
    }
}
