using System.Net.Http.Headers;
using LlmProxy.Configuration;
using LlmProxy.Providers.OpenAI;

namespace LlmProxy.Providers.Simulated;

/// <summary>The built-in simulated provider: forwards to the in-process simulator at <c>/{provider}/v1</c>.</summary>
internal sealed class SimulatedAdapter : IProviderAdapter
{
    private readonly SimulatorServer _server;

    /// <summary>Creates the adapter over the simulator server.</summary>
    public SimulatedAdapter(SimulatorServer server) => _server = server;

    /// <inheritdoc/>
    public IProviderTranslator Translator { get; } = new OpenAITranslator();

    /// <inheritdoc/>
    public string Type => ProviderTypes.Simulated;

    /// <inheritdoc/>
    public string GetAddress(string providerName, ProviderConfig provider, GatewayConfig config)
        => _server.EnsureStarted(config.Server.SimulatorPort) + "/" + Uri.EscapeDataString(providerName) + "/v1";

    /// <inheritdoc/>
    public UpstreamPath PathOf(ModelTarget target, string operationPath) => new(operationPath, QueryString.Empty);

    /// <inheritdoc/>
    public void AddCredential(HttpRequestHeaders headers, ProviderRuntime provider)
    {
    }
}
