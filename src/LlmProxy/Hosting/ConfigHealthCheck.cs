using LlmProxy.Configuration;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace LlmProxy.Hosting;

/// <summary>Ready when a valid config is loaded.</summary>
internal sealed class ConfigHealthCheck : IHealthCheck
{
    private readonly ConfigStore _store;

    public ConfigHealthCheck(ConfigStore store) => _store = store;

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
        => Task.FromResult(_store.IsLoaded
            ? HealthCheckResult.Healthy($"config revision {_store.Current.Revision}")
            : HealthCheckResult.Unhealthy("no valid config loaded"));
}
