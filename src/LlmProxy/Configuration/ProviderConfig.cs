namespace LlmProxy.Configuration;

/// <summary>One upstream provider.</summary>
public sealed record ProviderConfig
{
    /// <summary><c>openai</c>, <c>azure-openai</c>, <c>openai-compatible</c>, <c>anthropic</c> or <c>simulated</c>.</summary>
    public string Type { get; init; } = "";

    /// <summary>The provider's base URL (OpenAI: <c>https://api.openai.com/v1</c>; Azure: the resource endpoint).</summary>
    public string? BaseUrl { get; init; }

    /// <summary>A reference to the credential: <c>env:NAME</c> or <c>file:/path</c>. Never the secret itself.</summary>
    public string? ApiKey { get; init; }

    /// <summary>Azure OpenAI only: <c>api-version</c> for the classic deployment paths, or <c>v1</c> for the <c>/openai/v1</c> form.</summary>
    public string? ApiVersion { get; init; }

    /// <summary>Anthropic only: the <c>anthropic-version</c> header (default <c>2023-06-01</c>).</summary>
    public string? AnthropicVersion { get; init; }

    /// <summary>
    /// Anthropic only: <c>max_tokens</c> sent when the client sends neither <c>max_tokens</c> nor
    /// <c>max_completion_tokens</c> (the Messages API requires it). A model's own <c>default_max_tokens</c> wins.
    /// </summary>
    public int? DefaultMaxTokens { get; init; }

    /// <summary>When true, a missing credential disables the provider instead of failing the config.</summary>
    public bool Optional { get; init; }

    /// <summary>
    /// Whether the gateway may add <c>stream_options.include_usage</c> to streamed chat and completion requests
    /// (and strip the usage chunk again). Default: yes, except Azure api-versions before 2024-09-01, which reject it.
    /// </summary>
    public bool? InjectStreamUsage { get; init; }

    /// <summary>
    /// Whether the provider continues a final assistant message (a prefill), which lets the attempt loop continue a
    /// stream cut mid-answer on it. Default: yes for <c>anthropic</c>, <c>openai-compatible</c> and <c>simulated</c>;
    /// no for <c>openai</c> and <c>azure-openai</c> (chat completions there answer a trailing assistant message anew).
    /// </summary>
    public bool? Prefill { get; init; }

    /// <summary>Time allowed for connecting to this provider, for models that set none (default 10 s).</summary>
    public double? ConnectTimeoutSeconds { get; init; }

    /// <summary>Time allowed for this provider's response headers, for models that set none (default: the model's idle timeout).</summary>
    public double? FirstByteTimeoutSeconds { get; init; }

    /// <summary>Simulated provider only: latency and error injection.</summary>
    public SimulationSettings? Simulation { get; init; }
}
