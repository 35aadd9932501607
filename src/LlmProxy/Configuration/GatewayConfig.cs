using System.Text.Json.Serialization;

namespace LlmProxy.Configuration;

/// <summary>
/// The route config users edit (<c>config/llmproxy.json</c>): providers, models and virtual keys.
/// Property names are snake_case in the file; see <c>config/llmproxy.schema.json</c>.
/// </summary>
public sealed record GatewayConfig
{
    /// <summary>Editor hint; ignored by the gateway.</summary>
    [JsonPropertyName("$schema")]
    public string? Schema { get; init; }

    /// <summary>Gateway-wide settings.</summary>
    public ServerSettings Server { get; init; } = new();

    /// <summary>How clients authenticate.</summary>
    public AuthSettings Auth { get; init; } = new();

    /// <summary>Upstream providers by name.</summary>
    public Dictionary<string, ProviderConfig> Providers { get; init; } = [];

    /// <summary>Public model names and the targets that serve them.</summary>
    public Dictionary<string, ModelConfig> Models { get; init; } = [];

    /// <summary>Virtual keys, stored as hashes.</summary>
    public List<VirtualKeyConfig> Keys { get; init; } = [];

    /// <summary>The pricing table (USD per 1M tokens per provider model), relative to this file's folder.</summary>
    public string PricingFile { get; init; } = "pricing.json";

    /// <summary>Metering and telemetry settings.</summary>
    public TelemetrySettings Telemetry { get; init; } = new();

    /// <summary>Teams (named groups of keys) and their shared limits.</summary>
    public Dictionary<string, TeamConfig> Teams { get; init; } = [];

    /// <summary>How limits are counted.</summary>
    public RateLimitSettings RateLimits { get; init; } = new();

    /// <summary>Shared limit state; without a connection, limits are kept in memory (one replica).</summary>
    public RedisSettings Redis { get; init; } = new();
}

/// <summary>Metering and telemetry.</summary>
public sealed record TelemetrySettings
{
    /// <summary>When false, requests are not metered (no usage parsing, metrics, summary or request log).</summary>
    public bool Metering { get; init; } = true;

    /// <summary>Sliding windows of <c>/metrics/summary</c>, in minutes (1 to 60).</summary>
    public List<int> SummaryWindowsMinutes { get; init; } = [5, 60];

    /// <summary>Log prompts and answers at Debug (never at other levels). Off unless set explicitly.</summary>
    public bool LogBodies { get; init; }
}

/// <summary>USD prices per million tokens. Input and output prices are required: a missing price is not zero.</summary>
public sealed record PriceConfig
{
    /// <summary>Price of 1M input tokens (not cached).</summary>
    [JsonPropertyName("input_per_1m")]
    public decimal? InputPer1M { get; init; }

    /// <summary>Price of 1M output tokens (reasoning tokens included).</summary>
    [JsonPropertyName("output_per_1m")]
    public decimal? OutputPer1M { get; init; }

    /// <summary>Price of 1M cached input tokens; the input price when not given.</summary>
    [JsonPropertyName("cached_input_per_1m")]
    public decimal? CachedInputPer1M { get; init; }
}

/// <summary>The pricing table file: prices by <c>provider/model</c> or by <c>model</c>.</summary>
public sealed record PricingConfig
{
    /// <summary>Editor hint; ignored by the gateway.</summary>
    [JsonPropertyName("$schema")]
    public string? Schema { get; init; }

    /// <summary>Prices keyed by <c>provider/model</c> (most specific) or by the provider's model name.</summary>
    public Dictionary<string, PriceConfig> Models { get; init; } = [];
}

/// <summary>Gateway-wide settings.</summary>
public sealed record ServerSettings
{
    /// <summary>Largest request body accepted, in bytes; larger bodies get 413.</summary>
    public long MaxRequestBodyBytes { get; init; } = 16 * 1024 * 1024;

    /// <summary>Idle time allowed on an upstream request before it fails with 504.</summary>
    public double UpstreamTimeoutSeconds { get; init; } = 600;

    /// <summary>Loopback port of the simulated provider; 0 picks a free port.</summary>
    public int SimulatorPort { get; init; }
}

/// <summary>Client authentication.</summary>
public sealed record AuthSettings
{
    /// <summary><c>keys</c> (default): a virtual key is required. <c>none</c>: no authentication, every model is open.</summary>
    public string Mode { get; init; } = AuthModes.Keys;
}

/// <summary>The values of <see cref="AuthSettings.Mode"/>.</summary>
public static class AuthModes
{
    /// <summary>A virtual key is required.</summary>
    public const string Keys = "keys";

    /// <summary>No authentication (must be chosen explicitly).</summary>
    public const string None = "none";
}

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

    /// <summary>Simulated provider only: latency and error injection.</summary>
    public SimulationSettings? Simulation { get; init; }
}

/// <summary>Behaviour of a <c>simulated</c> provider.</summary>
public sealed record SimulationSettings
{
    /// <summary>Delay before the first token (and before a non-streamed answer).</summary>
    public int TtftMs { get; init; } = 150;

    /// <summary>Delay between streamed tokens.</summary>
    public int InterTokenMs { get; init; } = 20;

    /// <summary>Share of requests answered with an injected error, 0 to 1.</summary>
    public double ErrorRate { get; init; }

    /// <summary>Status of injected errors.</summary>
    public int ErrorStatus { get; init; } = 503;

    /// <summary>Retry-After (seconds) sent with injected errors, if set.</summary>
    public int? RetryAfterSeconds { get; init; }

    /// <summary>Completion tokens generated when the request sets no max_tokens.</summary>
    public int DefaultMaxTokens { get; init; } = 24;

    /// <summary>Length of embedding vectors.</summary>
    public int EmbeddingDimensions { get; init; } = 256;
}

/// <summary>A public model name and the targets that serve it.</summary>
public sealed record ModelConfig
{
    /// <summary>Provider + upstream model + weight; traffic is split by weight.</summary>
    public List<TargetConfig> Targets { get; init; } = [];

    /// <summary>Other public names for the same model.</summary>
    public List<string> Aliases { get; init; } = [];

    /// <summary>Overrides <see cref="ServerSettings.UpstreamTimeoutSeconds"/> for this model.</summary>
    public double? TimeoutSeconds { get; init; }

    /// <summary>Time allowed for the provider's response headers (the whole answer, for a non-streamed request); the idle timeout when unset.</summary>
    public double? FirstByteTimeoutSeconds { get; init; }

    /// <summary>Time allowed for the whole client request, every attempt and fallback included (default 900 s).</summary>
    public double? DeadlineSeconds { get; init; }

    /// <summary>Attempts and backoff on this model's targets.</summary>
    public RetryConfig Retry { get; init; } = new();

    /// <summary>Models tried in order when every target of this one failed (their own fallbacks are not followed).</summary>
    public List<string> Fallbacks { get; init; } = [];

    /// <summary>Models tried in order when the provider says the prompt is too long for this one (<c>context_length_exceeded</c>).</summary>
    public List<string> ContextWindowFallbacks { get; init; } = [];

    /// <summary>Gateway-wide limits of this model (all keys together), to protect a provider deployment's quota.</summary>
    public LimitsConfig? Limits { get; init; }

    /// <summary>Validation of answers against the request's schemas for this model.</summary>
    public StructuredOutputSettings? StructuredOutput { get; init; }

    /// <summary>
    /// <c>max_tokens</c> sent to this model's Anthropic targets when the client sends none (overrides the provider's
    /// <c>default_max_tokens</c>). Other provider types need none and get none.
    /// </summary>
    public int? DefaultMaxTokens { get; init; }
}

/// <summary>One way of serving a model.</summary>
public sealed record TargetConfig
{
    /// <summary>Name of a provider in <see cref="GatewayConfig.Providers"/>.</summary>
    public string Provider { get; init; } = "";

    /// <summary>The provider's model (Azure: deployment) name; defaults to the public name.</summary>
    public string? Model { get; init; }

    /// <summary>Relative share of traffic; 0 takes the target out of rotation.</summary>
    public int Weight { get; init; } = 1;

    /// <summary>Overrides the pricing table for this target.</summary>
    public PriceConfig? Pricing { get; init; }
}

/// <summary>A virtual key a client presents, stored as a hash.</summary>
public sealed record VirtualKeyConfig
{
    /// <summary>Stable id, safe to log and to use as a metric label.</summary>
    public string Id { get; init; } = "";

    /// <summary>Human-readable name.</summary>
    public string? Name { get; init; }

    /// <summary>The team the key belongs to (a metric label and log field).</summary>
    public string? Team { get; init; }

    /// <summary><c>sha256:</c> followed by the hex SHA-256 of the key.</summary>
    public string Hash { get; init; } = "";

    /// <summary>Public model names (or aliases) the key may use; <c>*</c> allows all.</summary>
    public List<string> Models { get; init; } = [];

    /// <summary>Limits of this key across all models.</summary>
    public LimitsConfig? Limits { get; init; }

    /// <summary>Limits of this key on one model, by public model name.</summary>
    public Dictionary<string, LimitsConfig> ModelLimits { get; init; } = [];

    /// <summary>Validation of answers for this key (takes precedence over the model's).</summary>
    public StructuredOutputSettings? StructuredOutput { get; init; }
}
