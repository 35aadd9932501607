namespace LlmProxy.Configuration;

/// <summary>A public model name and the targets that serve it.</summary>
public sealed record ModelConfig
{
    /// <summary>Provider + upstream model + weight; traffic is split by weight.</summary>
    public List<TargetConfig> Targets { get; init; } = [];

    /// <summary>
    /// How requests are spread over the targets of the best tier available (<see cref="TargetConfig.Priority"/>): <c>weighted</c>
    /// (default), <c>round_robin</c>, <c>least_in_flight</c> or <c>latency</c>.
    /// </summary>
    public BalancingStrategy Strategy { get; init; } = BalancingStrategy.Weighted;

    /// <summary>Other public names for the same model.</summary>
    public List<string> Aliases { get; init; } = [];

    /// <summary>Overrides <see cref="ServerSettings.UpstreamTimeoutSeconds"/> for this model.</summary>
    public double? TimeoutSeconds { get; init; }

    /// <summary>Time allowed for connecting to a provider (default 10 s); a connection that does not open fails the attempt over.</summary>
    public double? ConnectTimeoutSeconds { get; init; }

    /// <summary>Time allowed for the provider's response headers (the whole answer, for a non-streamed request); the idle timeout when unset.</summary>
    public double? FirstByteTimeoutSeconds { get; init; }

    /// <summary>Time allowed for a stream's first text; a late first token fails the attempt over to another target (off when unset).</summary>
    public double? FirstTokenTimeoutSeconds { get; init; }

    /// <summary>Time allowed for the whole client request, every attempt and fallback included (default 900 s).</summary>
    public double? DeadlineSeconds { get; init; }

    /// <summary>Attempts and backoff on this model's targets.</summary>
    public RetryConfig Retry { get; init; } = new();

    /// <summary>Passive health of this model's targets: when a failing or throttled target is taken out of rotation, and for how long.</summary>
    public HealthConfig Health { get; init; } = new();

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
