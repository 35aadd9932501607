using System.Net.Http.Headers;
using LlmProxy.Configuration;

namespace LlmProxy.Providers.Anthropic;

/// <summary>
/// Anthropic's Messages API: <c>{base_url}/v1/messages</c> (base URL default <c>https://api.anthropic.com</c>), the
/// credential as <c>x-api-key</c>, and the <c>anthropic-version</c> header. Bodies are translated by
/// <see cref="AnthropicTranslator"/>.
/// </summary>
internal sealed class AnthropicAdapter : IProviderAdapter
{
    /// <summary>The Messages API path, after the base URL.</summary>
    public const string MessagesPath = "/v1/messages";

    /// <inheritdoc/>
    public IProviderTranslator Translator { get; } = new AnthropicTranslator();

    /// <inheritdoc/>
    public string Type => ProviderTypes.Anthropic;

    /// <inheritdoc/>
    public string GetAddress(string providerName, ProviderConfig provider, GatewayConfig config)
        => (provider.BaseUrl ?? AnthropicConfigRules.DefaultBaseUrl).TrimEnd('/');

    /// <inheritdoc/>
    public UpstreamPath PathOf(ModelTarget target, string operationPath) => new(MessagesPath, QueryString.Empty);

    /// <inheritdoc/>
    public void AddCredential(HttpRequestHeaders headers, ProviderRuntime provider)
    {
        if (provider.Credential is not null)
        {
            headers.TryAddWithoutValidation("x-api-key", provider.Credential);
        }

        headers.TryAddWithoutValidation("anthropic-version", provider.ApiVersion ?? AnthropicConfigRules.DefaultVersion);
    }
}
