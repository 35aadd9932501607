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
