using LlmProxy.Errors;
using LlmProxy.Usage;

namespace LlmProxy.Telemetry;

/// <summary>
/// What one request measured as it went through the stages (one object per metered request, on
/// <c>HttpContext.Features</c>). The metering stage turns it into one usage record at the end.
/// Timestamps are <see cref="TimeProvider.GetTimestamp"/> values; 0 means "did not happen".
/// </summary>
public sealed class RequestMeter
{
    /// <summary>Starts a meter.</summary>
    public RequestMeter(string requestId, long start)
    {
        RequestId = requestId;
        Start = start;
    }

    /// <summary>The host's table of response model names (strings reused across responses); null makes a new string each time.</summary>
    internal ModelNameTable? ModelNames { get; init; }

    /// <summary>The request id (incoming <c>x-request-id</c> or generated).</summary>
    public string RequestId { get; }

    /// <summary>When the gateway received the request.</summary>
    public long Start { get; }

    /// <summary>When the request was handed to the forwarder.</summary>
    public long UpstreamStart { get; set; }

    /// <summary>When the provider's response headers arrived.</summary>
    public long UpstreamHeaders { get; set; }

    /// <summary>When the provider's last byte was read.</summary>
    public long UpstreamEnd { get; set; }

    /// <summary>When the first piece of generated text passed through.</summary>
    public long FirstToken { get; set; }

    /// <summary>An error the gateway wrote itself.</summary>
    public LlmError? GatewayError { get; set; }

    /// <summary>True when an exception left the pipeline.</summary>
    public bool Fault { get; set; }

    /// <summary>A failure of the provider after the response started (mid-stream).</summary>
    public ErrorCategory StreamFailure { get; set; }

    /// <summary>The provider's status, when it answered.</summary>
    public int UpstreamStatus { get; set; }

    /// <summary>True when the gateway added <c>stream_options.include_usage</c> and must strip the usage chunk.</summary>
    public bool StripUsageChunk { get; set; }

    /// <summary>Input tokens from the provider's usage block.</summary>
    public long? InputTokens { get; set; }

    /// <summary>Output tokens from the provider's usage block.</summary>
    public long? OutputTokens { get; set; }

    /// <summary>Cached input tokens from the provider's usage block.</summary>
    public long CachedInputTokens { get; set; }

    /// <summary>Reasoning tokens from the provider's usage block.</summary>
    public long ReasoningTokens { get; set; }

    /// <summary>UTF-8 bytes of generated text seen (for estimates when no usage arrives).</summary>
    public long GeneratedTextBytes { get; set; }

    /// <summary>The model the provider says answered.</summary>
    public string? ResponseModel { get; set; }

    /// <summary>The provider's response id.</summary>
    public string? ResponseId { get; set; }

    /// <summary>The first finish reason seen.</summary>
    public string? FinishReason { get; set; }

    /// <summary>
    /// Whether the response id and finish reason are read from the answer (the GenAI span and the request log carry
    /// them). The metering stage clears it when neither is recorded, which saves a string per answer.
    /// </summary>
    public bool CaptureDetails { get; set; } = true;

    /// <summary>A reservation to settle with the usage record when the request ends (set by the rate-limit stage).</summary>
    public IUsageSettlement? Settlement { get; set; }

    /// <summary>True when the config opted in to logging bodies at Debug and Debug is on.</summary>
    public bool CaptureBodies { get; set; }

    /// <summary>The request body, kept only when <see cref="CaptureBodies"/> is set (truncated).</summary>
    public string? PromptText { get; set; }

    /// <summary>The non-streamed answer, kept only when <see cref="CaptureBodies"/> is set (truncated).</summary>
    public string? AnswerText { get; set; }

    /// <summary>Records the provider's usage numbers.</summary>
    internal void SetUsage(long? input, long? output, long cached, long reasoning)
    {
        if (input is not null)
        {
            InputTokens = input;
        }

        if (output is not null)
        {
            OutputTokens = output;
        }

        CachedInputTokens = cached;
        ReasoningTokens = reasoning;
    }

    /// <summary>The usage: the provider's numbers when it sent them, else an estimate (about four bytes a token).</summary>
    internal TokenUsage ResolveUsage(int requestBodyBytes)
    {
        if (InputTokens is { } input && OutputTokens is { } output)
        {
            return new TokenUsage(input, output, CachedInputTokens, ReasoningTokens, Estimated: false);
        }

        // Embeddings report no output tokens; anything else missing is estimated.
        var estimatedInput = InputTokens ?? Estimate(requestBodyBytes);
        var estimatedOutput = OutputTokens ?? Estimate(GeneratedTextBytes);
        return new TokenUsage(estimatedInput, estimatedOutput, CachedInputTokens, ReasoningTokens, Estimated: InputTokens is null || (OutputTokens is null && GeneratedTextBytes > 0));
    }

    private static long Estimate(long bytes) => bytes <= 0 ? 0 : (bytes + 3) / 4;
}
