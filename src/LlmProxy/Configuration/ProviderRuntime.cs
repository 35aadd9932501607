using LlmProxy.Providers;

namespace LlmProxy.Configuration;

/// <summary>A provider as loaded: its adapter, resolved address and credential.</summary>
public sealed class ProviderRuntime
{
    /// <summary>Name from the config.</summary>
    public required string Name { get; init; }

    /// <summary>One of <see cref="ProviderTypes"/>.</summary>
    public required string Type { get; init; }

    /// <summary>The <c>gen_ai.provider.name</c> value: <c>openai</c>, <c>azure.ai.openai</c>, else the configured name.</summary>
    public string GenAiName => Type switch
    {
        ProviderTypes.OpenAI => "openai",
        ProviderTypes.AzureOpenAI => "azure.ai.openai",
        ProviderTypes.Anthropic => "anthropic",
        _ => Name,
    };

    /// <summary>The destination address YARP forwards to.</summary>
    public required string Address { get; init; }

    /// <summary>The resolved credential, or null when the provider needs none.</summary>
    internal string? Credential
    {
        get;
        init
        {
            field = value;
            BearerValue = value is null ? null : "Bearer " + value;
            Redactor = value is { Length: >= CredentialRedactor.MinimumLength } ? new CredentialRedactor(value) : null;
        }
    }

    /// <summary>
    /// Overwrites the credential wherever the provider echoes it back; null when there is none, or when it is shorter than
    /// <see cref="CredentialRedactor.MinimumLength"/> (a placeholder such as <c>unused</c>, which would garble ordinary text).
    /// </summary>
    internal CredentialRedactor? Redactor { get; private init; }

    /// <summary><c>Bearer {credential}</c>, built once so the hot path does not concatenate.</summary>
    internal string? BearerValue { get; private init; }

    /// <summary>Azure: api-version (or <c>v1</c>). Anthropic: the <c>anthropic-version</c> header.</summary>
    public string? ApiVersion { get; init; }

    /// <summary>Anthropic: <c>max_tokens</c> when neither the client nor the model gives one.</summary>
    public int? DefaultMaxTokens { get; init; }

    /// <summary>True when the gateway may add <c>stream_options.include_usage</c> for this provider.</summary>
    public bool InjectStreamUsage { get; init; } = true;

    /// <summary>Time allowed for connecting to this provider, for models that set none.</summary>
    public TimeSpan? ConnectTimeout { get; init; }

    /// <summary>Time allowed for this provider's response headers, for models that set none.</summary>
    public TimeSpan? FirstByteTimeout { get; init; }

    /// <summary>True when the provider continues a final assistant message (a stream cut elsewhere can be continued here).</summary>
    public bool Prefill { get; init; }

    /// <summary>Settings of a simulated provider.</summary>
    public SimulationSettings? Simulation { get; init; }

    /// <summary>Applies the provider's URL and auth rules to an outgoing request.</summary>
    internal IProviderAdapter Adapter { get; init; } = null!;

    /// <summary>Translates the bodies between OpenAI's shape and the provider's (the adapter's translator).</summary>
    internal IProviderTranslator Translator => Adapter.Translator;

    /// <inheritdoc/>
    public override string ToString() => $"{Name} ({Type})";
}
