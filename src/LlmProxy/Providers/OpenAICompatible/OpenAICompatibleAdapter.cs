using LlmProxy.Configuration;
using LlmProxy.Providers.OpenAI;
using Yarp.ReverseProxy.Transforms;

namespace LlmProxy.Providers.OpenAICompatible;

/// <summary>vLLM, Ollama and other OpenAI-compatible servers: base URL ends in <c>/v1</c>, optional Bearer.</summary>
internal sealed class OpenAICompatibleAdapter : IProviderAdapter
{
    /// <inheritdoc/>
    public string Type => ProviderTypes.OpenAICompatible;

    /// <inheritdoc/>
    public string GetAddress(string providerName, ProviderConfig provider, GatewayConfig config) => provider.BaseUrl!;

    /// <inheritdoc/>
    public void ApplyRequest(RequestTransformContext context, ModelTarget target, string operationPath)
    {
        context.Path = operationPath;
        OpenAIAdapter.SetBearer(context, target.Provider);
    }
}
