using System.Net.Http.Headers;
using LlmProxy.Configuration;

namespace LlmProxy.Providers;

/// <summary>
/// What differs between provider types: the destination address, the upstream path and query, how the provider's
/// credential is sent, and the translator of the bodies. One implementation per type, looked up by type name.
/// </summary>
internal interface IProviderAdapter
{
    /// <summary>The provider type (one of <see cref="ProviderTypes"/>).</summary>
    string Type { get; }

    /// <summary>The YARP destination address for a provider of this type.</summary>
    string GetAddress(string providerName, ProviderConfig provider, GatewayConfig config);

    /// <summary>
    /// The provider's path and query for an OpenAI operation. <paramref name="operationPath"/> is the OpenAI path
    /// after <c>/v1</c>, for example <c>/chat/completions</c>.
    /// </summary>
    UpstreamPath PathOf(ModelTarget target, string operationPath);

    /// <summary>Adds the provider's credential (nothing when it has none) and any header its API requires.</summary>
    void AddCredential(HttpRequestHeaders headers, ProviderRuntime provider);

    /// <summary>How request and answer bodies are translated for this provider type.</summary>
    IProviderTranslator Translator { get; }
}
