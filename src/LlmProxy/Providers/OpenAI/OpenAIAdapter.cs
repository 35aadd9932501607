using System.Net.Http.Headers;
using LlmProxy.Configuration;

namespace LlmProxy.Providers.OpenAI;

/// <summary>api.openai.com: base URL ends in <c>/v1</c>, credential as <c>Authorization: Bearer</c>.</summary>
internal sealed class OpenAIAdapter : IProviderAdapter
{
    /// <summary>Used when the config gives no base_url.</summary>
    public const string DefaultBaseUrl = "https://api.openai.com/v1";

    /// <inheritdoc/>
    public IProviderTranslator Translator { get; } = new OpenAITranslator();

    /// <inheritdoc/>
    public string Type => ProviderTypes.OpenAI;

    /// <inheritdoc/>
    public string GetAddress(string providerName, ProviderConfig provider, GatewayConfig config)
        => provider.BaseUrl ?? DefaultBaseUrl;

    /// <inheritdoc/>
    public UpstreamPath PathOf(ModelTarget target, string operationPath) => new(operationPath, QueryString.Empty);

    /// <inheritdoc/>
    public void AddCredential(HttpRequestHeaders headers, ProviderRuntime provider) => AddBearer(headers, provider);

    /// <summary>Sends the provider credential as a bearer token (nothing when there is none).</summary>
    internal static void AddBearer(HttpRequestHeaders headers, ProviderRuntime provider)
    {
        if (provider.BearerValue is { } bearer)
        {
            headers.TryAddWithoutValidation("Authorization", bearer);
        }
    }
}
