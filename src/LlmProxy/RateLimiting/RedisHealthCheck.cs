using LlmProxy.Configuration;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace LlmProxy.RateLimiting;

/// <summary>
/// Readiness of the limit store: healthy without Redis (limits in memory) or with Redis connected; while Redis is
/// unreachable, degraded under fail-open (still ready: requests are admitted) and unhealthy under fail-closed.
/// </summary>
internal sealed class RedisHealthCheck(ConfigStore store, RedisConnection redis) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var snapshot = store.Current;
        if (snapshot.RedisConnection is not { } connection)
        {
            return HealthCheckResult.Healthy("limits in memory (no redis.connection)");
        }

        var settings = snapshot.Config.Redis;
        if (await redis.StoreAsync(connection, settings.TimeoutMs) is not null)
        {
            return HealthCheckResult.Healthy("redis connected");
        }

        return settings.OnFailure == RedisFailurePolicies.FailOpen
            ? HealthCheckResult.Degraded("redis unreachable; failing open (limits counted per replica)")
            : HealthCheckResult.Unhealthy("redis unreachable; failing closed (limited requests get 503)");
    }
}
