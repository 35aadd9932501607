using System.Net.Http.Headers;
using LlmProxy.Configuration;

namespace LlmProxy.Providers;

/// <summary>
/// What differs between provider types on the way out: the destination address, the upstream path and query,
/// and how the provider's credential is sent. One implementation per type, looked up by type name.
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

    /// <summary>Adds the provider's credential (nothing when it has none).</summary>
    void AddCredential(HttpRequestHeaders headers, ProviderRuntime provider);
}
