using System.Net.Http.Headers;
using LlmProxy.Configuration;
using LlmProxy.Providers.OpenAI;

namespace LlmProxy.Providers.AzureOpenAI;

/// <summary>
/// Azure OpenAI. Classic form: <c>{endpoint}/openai/deployments/{deployment}/chat/completions?api-version=…</c>
/// (deployment paths for chat, completions and embeddings; <c>/openai/{path}</c> for the rest). With
/// <c>api_version: v1</c>: <c>{endpoint}/openai/v1/{path}</c> without api-version. Credential as <c>api-key</c>.
/// </summary>
internal sealed class AzureOpenAIAdapter : IProviderAdapter
{
    /// <summary>The api_version value that selects the /openai/v1 API.</summary>
    public const string V1 = "v1";

    /// <inheritdoc/>
    public IProviderTranslator Translator { get; } = new OpenAITranslator();

    /// <inheritdoc/>
    public string Type => ProviderTypes.AzureOpenAI;

    /// <inheritdoc/>
    public string GetAddress(string providerName, ProviderConfig provider, GatewayConfig config)
        => provider.BaseUrl!.TrimEnd('/');

    /// <inheritdoc/>
    public UpstreamPath PathOf(ModelTarget target, string operationPath)
    {
        var provider = target.Provider;
        if (string.Equals(provider.ApiVersion, V1, StringComparison.OrdinalIgnoreCase))
        {
            return new UpstreamPath("/openai/v1" + operationPath, QueryString.Empty);
        }

        var path = UsesDeploymentPath(operationPath)
            ? "/openai/deployments/" + Uri.EscapeDataString(target.UpstreamModel) + operationPath
            : "/openai" + operationPath;
        return new UpstreamPath(path, QueryString.Create("api-version", provider.ApiVersion ?? ""));
    }

    /// <inheritdoc/>
    public void AddCredential(HttpRequestHeaders headers, ProviderRuntime provider)
    {
        if (provider.Credential is not null)
        {
            headers.TryAddWithoutValidation("api-key", provider.Credential);
        }
    }

    private static bool UsesDeploymentPath(string operationPath)
        => operationPath is "/chat/completions" or "/completions" or "/embeddings";
}
