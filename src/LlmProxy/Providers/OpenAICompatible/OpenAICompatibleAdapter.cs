using System.Net.Http.Headers;
using LlmProxy.Configuration;
using LlmProxy.Providers.OpenAI;

namespace LlmProxy.Providers.OpenAICompatible;

/// <summary>vLLM, Ollama and other OpenAI-compatible servers: base URL ends in <c>/v1</c>, optional Bearer.</summary>
internal sealed class OpenAICompatibleAdapter : IProviderAdapter
{
    /// <inheritdoc/>
    public IProviderTranslator Translator { get; } = new OpenAITranslator();

    /// <inheritdoc/>
    public string Type => ProviderTypes.OpenAICompatible;

    /// <inheritdoc/>
    public string GetAddress(string providerName, ProviderConfig provider, GatewayConfig config) => provider.BaseUrl!;

    /// <inheritdoc/>
    public UpstreamPath PathOf(ModelTarget target, string operationPath) => new(operationPath, QueryString.Empty);

    /// <inheritdoc/>
    public void AddCredential(HttpRequestHeaders headers, ProviderRuntime provider) => OpenAIAdapter.AddBearer(headers, provider);
}
