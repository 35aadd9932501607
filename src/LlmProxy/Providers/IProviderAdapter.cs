using LlmProxy.Configuration;
using Yarp.ReverseProxy.Transforms;

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
    /// Sets path, query and credential on the outgoing request. <paramref name="operationPath"/> is the
    /// OpenAI path after <c>/v1</c>, for example <c>/chat/completions</c>.
    /// </summary>
    void ApplyRequest(RequestTransformContext context, ModelTarget target, string operationPath);
}
