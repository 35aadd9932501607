namespace LlmProxy.Configuration;

/// <summary>The provider types the config accepts.</summary>
public static class ProviderTypes
{
    /// <summary>api.openai.com (Bearer auth).</summary>
    public const string OpenAI = "openai";

    /// <summary>Azure OpenAI (api-key header; deployment paths with api-version, or the /openai/v1 form).</summary>
    public const string AzureOpenAI = "azure-openai";

    /// <summary>Any OpenAI-compatible server such as vLLM or Ollama (optional Bearer auth).</summary>
    public const string OpenAICompatible = "openai-compatible";

    /// <summary>Anthropic's Messages API (x-api-key auth; requests and answers translated).</summary>
    public const string Anthropic = "anthropic";

    /// <summary>The built-in simulated provider.</summary>
    public const string Simulated = "simulated";

    /// <summary>All accepted types, for messages.</summary>
    public static readonly string[] All = [OpenAI, AzureOpenAI, OpenAICompatible, Anthropic, Simulated];
}
