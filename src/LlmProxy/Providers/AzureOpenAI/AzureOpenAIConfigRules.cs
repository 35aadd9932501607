using LlmProxy.Configuration;

namespace LlmProxy.Providers.AzureOpenAI;

/// <summary>The config rules of an <c>azure-openai</c> provider.</summary>
internal static class AzureOpenAIConfigRules
{
    /// <summary>Adds the errors of an Azure OpenAI provider's settings.</summary>
    public static void Validate(string path, ProviderConfig provider, List<string> errors)
    {
        if (string.IsNullOrWhiteSpace(provider.ApiVersion))
        {
            errors.Add($"{path}.api_version: required for type 'azure-openai' (for example '2024-10-21', or 'v1' for the /openai/v1 API)");
        }
    }

    /// <summary>Azure rejects <c>stream_options</c> before api-version 2024-09-01 ("Unrecognized request argument").</summary>
    public static bool AcceptsStreamOptions(ProviderConfig provider)
        => string.Equals(provider.ApiVersion, AzureOpenAIAdapter.V1, StringComparison.OrdinalIgnoreCase)
            || string.CompareOrdinal(provider.ApiVersion, "2024-09-01") >= 0;
}
