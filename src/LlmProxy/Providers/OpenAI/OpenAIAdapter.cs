using LlmProxy.Configuration;
using Yarp.ReverseProxy.Transforms;

namespace LlmProxy.Providers.OpenAI;

/// <summary>api.openai.com: base URL ends in <c>/v1</c>, credential as <c>Authorization: Bearer</c>.</summary>
internal sealed class OpenAIAdapter : IProviderAdapter
{
    /// <summary>Used when the config gives no base_url.</summary>
    public const string DefaultBaseUrl = "https://api.openai.com/v1";

    /// <inheritdoc/>
    public string Type => ProviderTypes.OpenAI;

    /// <inheritdoc/>
    public string GetAddress(string providerName, ProviderConfig provider, GatewayConfig config)
        => provider.BaseUrl ?? DefaultBaseUrl;

    /// <inheritdoc/>
    public void ApplyRequest(RequestTransformContext context, ModelTarget target, string operationPath)
    {
        context.Path = operationPath;
        SetBearer(context, target.Provider);
    }

    /// <summary>Sends the provider credential as a bearer token (nothing when there is none).</summary>
    internal static void SetBearer(RequestTransformContext context, ProviderRuntime provider)
    {
        if (provider.BearerValue is { } bearer)
        {
            context.ProxyRequest.Headers.TryAddWithoutValidation("Authorization", bearer);
        }
    }
}
