using LlmProxy.Auth;
using LlmProxy.Configuration;
using LlmProxy.Errors;
using LlmProxy.Failover;
using LlmProxy.RateLimiting;
using LlmProxy.Routing;
using LlmProxy.StructuredOutput;
using LlmProxy.Telemetry;
using LlmProxy.Usage;

namespace LlmProxy.Hosting;

/// <summary>
/// The one per-request object every stage shares, on <c>HttpContext.Features</c>. The first stage starts it (id,
/// clock, config snapshot); each later stage fills in what it found — the caller, the body and what was parsed from
/// it, the model and target, the limits, the attempt — and what the answer measured (timings, usage, errors). The
/// metering stage turns it into one usage record at the end. Timestamps are <see cref="TimeProvider.GetTimestamp"/>
/// values; 0 means "did not happen".
/// </summary>
public sealed class LlmRequestFeature
{
    private VirtualKey? _key;

    /// <summary>Starts the request's state.</summary>
    public LlmRequestFeature(GatewaySnapshot snapshot, string requestId, long start)
    {
        Snapshot = snapshot;
        RequestId = requestId;
        Start = start;
    }

    // ── Set when the request arrives ─────────────────────────────────────────────────────────────────────────

    /// <summary>The config snapshot in force when the request arrived.</summary>
    public GatewaySnapshot Snapshot { get; }

    /// <summary>The request id (incoming <c>x-request-id</c> or generated).</summary>
    public string RequestId { get; }

    /// <summary>When the gateway received the request.</summary>
    public long Start { get; }

    /// <summary>True when the request is metered (one usage record at the end); false when metering is off.</summary>
    public bool Metered { get; init; }

    /// <summary>The host's table of response model names (strings reused across responses); null makes a new string each time.</summary>
    internal ModelNameTable? ModelNames { get; init; }

    /// <summary>True when the config opted in to logging bodies at Debug and Debug is on.</summary>
    public bool CaptureBodies { get; init; }

    /// <summary>
    /// Whether the response id and finish reason are read from the answer (the GenAI span and the request log carry
    /// them). The metering stage clears it when neither is recorded, which saves a string per answer.
    /// </summary>
    public bool CaptureDetails { get; set; } = true;

    // ── Filled in by the stages ─────────────────────────────────────────────────────────────────────────────

    /// <summary>True once the authentication stage accepted the caller.</summary>
    public bool Authenticated => _key is not null;

    /// <summary>The authenticated caller (set by the authentication stage; the stages after it always have one).</summary>
    public VirtualKey Key
    {
        get => _key ?? throw new InvalidOperationException("The request has not been authenticated.");
        internal set => _key = value;
    }

    /// <summary>The buffered request body (a pooled array; valid while the request runs).</summary>
    public ArraySegment<byte> Body { get; internal set; }

    /// <summary>What the gateway read from the body.</summary>
    public LlmRequestInfo Request { get; internal set; }

    /// <summary>The OpenAI path after <c>/v1</c>, for example <c>/chat/completions</c>.</summary>
    public string OperationPath { get; internal set; } = "";

    /// <summary>The request body, kept only when <see cref="CaptureBodies"/> is set (truncated).</summary>
    public string? PromptText { get; set; }

    /// <summary>The model the request was routed to.</summary>
    public ModelRoute? Model { get; internal set; }

    /// <summary>What the answer must look like (schemas from the request), when the request carries any.</summary>
    public OutputExpectation? Output { get; internal set; }

    /// <summary>The limits that admitted the request, for the rate-limit headers of the provider's response.</summary>
    public (LimitPlan Plan, LimitDecision Decision, int Divisor)? Limits { get; internal set; }

    /// <summary>A reservation to settle with the usage record when the request ends (set by the rate-limit stage).</summary>
    public IUsageSettlement? Settlement { get; set; }

    /// <summary>Which attempt is running (1 for the first), failovers and structured-output retries together.</summary>
    public int Attempt { get; internal set; } = 1;

    /// <summary>How many answers have been asked for under structured-output <c>retry</c> (1 for the first).</summary>
    public int AnswersAsked { get; internal set; } = 1;

    /// <summary>The target chosen by load balancing.</summary>
    public ModelTarget? Target { get; internal set; }

    /// <summary>What the target's translator wrote down with the request for reading the answer (Anthropic: the name of the tool that stands for <c>response_format</c>).</summary>
    internal object? ProviderState { get; set; }

    /// <summary>True when the gateway added <c>stream_options.include_usage</c> and must strip the usage chunk.</summary>
    public bool StripUsageChunk { get; set; }

    /// <summary>Set by the response side when the attempt's answer failed validation and may be asked for again.</summary>
    internal InvalidAnswer? RetryWanted { get; set; }

    /// <summary>Set by the attempt loop while another attempt could follow: a provider's error is then kept in <see cref="Failure"/>, not sent.</summary>
    internal bool HoldFailure { get; set; }

    /// <summary>The provider's error the current attempt ended with, held for the attempt loop.</summary>
    internal UpstreamFailure? Failure { get; set; }

    /// <summary>What a stream delivered so far, kept when the attempt loop could continue it on another target.</summary>
    internal StreamTranscript? Transcript { get; set; }

    /// <summary>The transcript while it records what the provider sends (not during a continuation).</summary>
    internal StreamTranscript? RecordingTranscript => Transcript is { Recording: true } transcript ? transcript : null;

    /// <summary>How the stream's provider failed after the client got part of the answer, when the attempt loop is to continue it.</summary>
    internal Streaming.StreamEnd? StreamCut { get; set; }

    /// <summary>
    /// When the request's deadline (the requested model's <c>deadline_seconds</c>) passes, as a <see cref="TimeProvider"/>
    /// timestamp; 0 for none. Set by the attempt loop; a stream still running then is ended by its guard.
    /// </summary>
    internal long DeadlineAt { get; set; }

    /// <summary>The client's own cancellation (the attempt loop gives each attempt a token of its own that also ends at the deadline).</summary>
    public CancellationToken ClientAborted { get; init; }

    // ── What the answer measured ────────────────────────────────────────────────────────────────────────────

    /// <summary>When the request was handed to the forwarder.</summary>
    public long UpstreamStart { get; set; }

    /// <summary>When the provider's response headers arrived.</summary>
    public long UpstreamHeaders { get; set; }

    /// <summary>When the provider's last byte was read.</summary>
    public long UpstreamEnd { get; set; }

    /// <summary>When the first piece of generated text passed through.</summary>
    public long FirstToken { get; set; }

    /// <summary>The provider's status, when it answered.</summary>
    public int UpstreamStatus { get; set; }

    /// <summary>An error the gateway wrote itself.</summary>
    public LlmError? GatewayError { get; set; }

    /// <summary>True when an exception left the pipeline.</summary>
    public bool Fault { get; set; }

    /// <summary>A failure of the provider after the response started (mid-stream).</summary>
    public ErrorCategory StreamFailure { get; set; }

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

    /// <summary>What the attempts before the current one used: their answers went unused, but the provider served them.</summary>
    internal TokenUsage? EarlierAttempts { get; private set; }

    /// <summary>
    /// Starts the next attempt. An answer the client will not get (<paramref name="answered"/>: it broke its schema) is
    /// charged as an earlier attempt — its usage, or the estimate of it; a failed attempt only with the tokens its provider
    /// reported, if any. What describes the answer — tokens, text seen, ids, finish reason, first token, errors — starts
    /// again, so the record describes the answer the client gets.
    /// </summary>
    internal void NextAttempt(bool answered)
    {
        if (answered || InputTokens is not null || OutputTokens is not null)
        {
            var used = answered ? ResolveAttempt() : new TokenUsage(InputTokens ?? 0, OutputTokens ?? 0, CachedInputTokens, ReasoningTokens, Estimated: false);
            EarlierAttempts = EarlierAttempts is { } earlier ? earlier.Plus(used) : used;
        }

        Attempt++;
        if (answered)
        {
            AnswersAsked++;
        }

        InputTokens = null;
        OutputTokens = null;
        CachedInputTokens = 0;
        ReasoningTokens = 0;
        GeneratedTextBytes = 0;
        ResponseModel = null;
        ResponseId = null;
        FinishReason = null;
        AnswerText = null;
        FirstToken = 0;
        UpstreamHeaders = 0;
        UpstreamStatus = 0;
        GatewayError = null;
        StreamFailure = ErrorCategory.None;
        RetryWanted = null;
        Failure = null;
        Transcript?.Clear();
    }

    /// <summary>
    /// Starts an attempt that continues the answer of a stream cut mid-answer: the attempt before is charged (its usage, or
    /// the estimate of it) when <paramref name="charge"/> (it delivered part of the answer), its errors are cleared, and
    /// what the client already has — the answer's id, model, finish reason and first token — stays.
    /// </summary>
    internal void ContinueAttempt(bool charge)
    {
        if (charge)
        {
            var used = ResolveAttempt();
            EarlierAttempts = EarlierAttempts is { } earlier ? earlier.Plus(used) : used;
        }

        Attempt++;
        InputTokens = null;
        OutputTokens = null;
        CachedInputTokens = 0;
        ReasoningTokens = 0;
        GeneratedTextBytes = 0;
        UpstreamHeaders = 0;
        UpstreamStatus = 0;
        GatewayError = null;
        StreamFailure = ErrorCategory.None;
        StreamCut = null;
        Failure = null;
    }

    /// <summary>
    /// Forgets a continuation attempt of which nothing reached the client: it is charged nothing (unless its provider
    /// reported tokens), and the status and target are again those of the attempt whose answer the client has.
    /// </summary>
    internal void DiscardAttempt(int answeredStatus, ModelTarget? answeredTarget)
    {
        InputTokens ??= 0;
        OutputTokens ??= 0;
        GeneratedTextBytes = 0;
        UpstreamStatus = answeredStatus;
        Target = answeredTarget;
        GatewayError = null;
        StreamFailure = ErrorCategory.None;
        StreamCut = null;
        Failure = null;
    }

    /// <summary>The request's usage: every attempt's (<see cref="EarlierAttempts"/> and the last one's).</summary>
    internal TokenUsage ResolveUsage() => EarlierAttempts is { } earlier ? earlier.Plus(ResolveAttempt()) : ResolveAttempt();

    // The current attempt's usage: the provider's numbers when it sent them, else an estimate (about four bytes a token)
    // from the size of the body sent and the text seen.
    private TokenUsage ResolveAttempt()
    {
        if (InputTokens is { } input && OutputTokens is { } output)
        {
            return new TokenUsage(input, output, CachedInputTokens, ReasoningTokens, Estimated: false);
        }

        // Embeddings report no output tokens; anything else missing is estimated.
        var estimatedInput = InputTokens ?? Estimate(Body.Count);
        var estimatedOutput = OutputTokens ?? Estimate(GeneratedTextBytes);
        return new TokenUsage(estimatedInput, estimatedOutput, CachedInputTokens, ReasoningTokens, Estimated: InputTokens is null || (OutputTokens is null && GeneratedTextBytes > 0));
    }

    private static long Estimate(long bytes) => bytes <= 0 ? 0 : (bytes + 3) / 4;
}
