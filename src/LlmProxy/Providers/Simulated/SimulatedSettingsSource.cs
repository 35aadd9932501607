using LlmProxy.Configuration;

namespace LlmProxy.Providers.Simulated;

/// <summary>Gives the simulator the current settings of a simulated provider, from the live config.</summary>
internal sealed class SimulatedSettingsSource
{
    private readonly IServiceProvider _gatewayServices;

    /// <summary>Reads from the gateway's <see cref="ConfigStore"/>.</summary>
    public SimulatedSettingsSource(IServiceProvider gatewayServices) => _gatewayServices = gatewayServices;

    /// <summary>The provider's settings, or null when no simulated provider has that name.</summary>
    public SimulationSettings? Get(string provider)
    {
        var snapshot = _gatewayServices.GetRequiredService<ConfigStore>().Current;
        return snapshot.Providers.TryGetValue(provider, out var runtime) ? runtime.Simulation : null;
    }

    /// <summary>Upstream model names the provider serves.</summary>
    public IEnumerable<string> ModelsOf(string provider)
    {
        var snapshot = _gatewayServices.GetRequiredService<ConfigStore>().Current;
        return snapshot.Targets.Values.Where(t => t.Provider.Name == provider).Select(t => t.UpstreamModel).Distinct().Order(StringComparer.Ordinal);
    }
}
