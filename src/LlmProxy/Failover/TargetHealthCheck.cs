using LlmProxy.Configuration;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace LlmProxy.Failover;

/// <summary>
/// The circuit of every target of the config, as <c>/health/ready</c> details (<c>?details=true</c>). Always healthy:
/// a provider's outage is not this replica's (every replica sees it), and taking replicas out of service would not help.
/// </summary>
internal sealed class TargetHealthCheck(ConfigStore store, TargetHealth health, TimeProvider time) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var now = time.GetUtcNow();
        var data = new Dictionary<string, object>(StringComparer.Ordinal);
        int total = 0, closed = 0;
        foreach (var model in store.Current.ModelList)
        {
            foreach (var target in model.Targets)
            {
                var state = health.StateOf(target.DestinationId, now);
                var back = health.AvailableAt(target.DestinationId, now) - now;
                total++;
                closed += state == TargetCircuitState.Closed && back <= TimeSpan.Zero ? 1 : 0;
                data[TargetHealth.LabelOf(model.Name, target.DestinationId)] = new Dictionary<string, object>(StringComparer.Ordinal)
                {
                    ["model"] = model.Name,
                    ["provider"] = target.Provider.Name,
                    ["state"] = TargetHealth.Name(state),
                    ["available_in_seconds"] = back > TimeSpan.Zero ? Math.Round(back.TotalSeconds, 3) : 0.0,
                };
            }
        }

        return Task.FromResult(HealthCheckResult.Healthy($"{closed} of {total} targets in rotation", data));
    }
}
