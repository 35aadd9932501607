using LlmProxy.Usage;

namespace LlmProxy.Telemetry;

/// <summary>
/// The one record of a finished request, computed once and handed to every <see cref="IUsageSink"/>
/// (metrics, the summary, the request log; later token limits and budgets).
/// </summary>
public sealed class UsageRecord
{
    /// <summary>The gateway's request id.</summary>
    public required string RequestId { get; init; }

    /// <summary>GenAI operation name: <c>chat</c>, <c>text_completion</c> or <c>embeddings</c>.</summary>
    public required string Operation { get; init; }

    /// <summary>The model name the client asked for (a configured name or alias; "unknown" otherwise).</summary>
    public required string RequestModel { get; init; }

    /// <summary>The canonical model, or null when routing did not get that far.</summary>
    public string? Model { get; init; }

    /// <summary>The model the provider reported.</summary>
    public string? ResponseModel { get; init; }

    /// <summary>The provider's configured name.</summary>
    public string? Provider { get; init; }

    /// <summary>The GenAI provider name (<c>openai</c>, <c>azure.ai.openai</c>, or the configured name).</summary>
    public string? ProviderSystem { get; init; }

    /// <summary>The target's upstream model.</summary>
    public string? Target { get; init; }

    /// <summary>The virtual key's id (never the key).</summary>
    public string? KeyId { get; init; }

    /// <summary>The key's team.</summary>
    public string? Team { get; init; }

    /// <summary>True for <c>stream: true</c>.</summary>
    public bool Stream { get; init; }

    /// <summary>The HTTP status sent to the client.</summary>
    public int Status { get; init; }

    /// <summary>Why the request failed, or <see cref="ErrorCategory.None"/>.</summary>
    public ErrorCategory Error { get; init; }

    /// <summary>Tokens, or null when no provider answered.</summary>
    public TokenUsage? Usage { get; init; }

    /// <summary>Cost in USD; null when the price (or the usage) is unknown.</summary>
    public decimal? CostUsd { get; init; }

    /// <summary>Seconds from arrival to the end of the response.</summary>
    public double Duration { get; init; }

    /// <summary>Seconds spent waiting for and reading the provider, or null when it was not called.</summary>
    public double? UpstreamDuration { get; init; }

    /// <summary>Seconds spent in the gateway itself (duration minus the provider's time).</summary>
    public double Overhead { get; init; }

    /// <summary>Seconds to the first generated text (streams only).</summary>
    public double? TimeToFirstToken { get; init; }

    /// <summary>Seconds per output token after the first (streams only).</summary>
    public double? TimePerOutputToken { get; init; }

    /// <summary>The first finish reason.</summary>
    public string? FinishReason { get; init; }

    /// <summary>The provider's response id.</summary>
    public string? ResponseId { get; init; }

    /// <summary>When the request arrived.</summary>
    public DateTimeOffset Timestamp { get; init; }
}
