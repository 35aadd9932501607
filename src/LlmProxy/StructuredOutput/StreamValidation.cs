using System.Text.Json;
using LlmProxy.Configuration;
using LlmProxy.Telemetry;

namespace LlmProxy.StructuredOutput;

/// <summary>
/// Validation of a streamed chat answer: the chunks pass through untouched while they are collected; before
/// <c>data: [DONE]</c> the verdict is sent as an SSE comment, which SSE clients (the OpenAI SDKs included) ignore:
/// <c>: llmproxy-validation passed</c>, <c>skipped</c>, or <c>failed [{"path":…,"keyword":…,"message":…}]</c>.
/// Under <c>reject</c> (pass-through: the chunks have already gone) a failed answer ends with an OpenAI-shaped
/// error event and no <c>[DONE]</c>.
/// </summary>
internal sealed partial class StreamValidation
{
    private readonly OutputExpectation expectation;
    private readonly string model;
    private readonly string requestId;
    private readonly LlmProxyMetrics metrics;
    private readonly ILogger logger;
    private readonly Dictionary<int, IncrementalJsonChecker> _checkers = [];
    private readonly Dictionary<(int Choice, int Call), IncrementalJsonChecker?> _argumentCheckers = [];

    /// <summary>
    /// Starts validating a stream, the <paramref name="attempt"/>-th answer asked for. Under reject or retry, content is
    /// also checked as it arrives (when the request asked for JSON), so that a stream that can no longer be valid is
    /// stopped early.
    /// </summary>
    public StreamValidation(OutputExpectation expectation, string model, string requestId, LlmProxyMetrics metrics, ILogger logger, int attempt = 1)
    {
        Attempts = attempt;
        this.expectation = expectation;
        this.model = model;
        this.requestId = requestId;
        this.metrics = metrics;
        this.logger = logger;
        if (expectation.Policy != StructuredOutputPolicy.Annotate && expectation.ContentSchemaJson is { } schema)
        {
            Collector.OnContent = (index, text) =>
            {
                if (Collector.Incomplete)
                {
                    // A gap in what was seen: nothing can be decided early any more.
                    return;
                }

                if (!_checkers.TryGetValue(index, out var checker))
                {
                    checker = new IncrementalJsonChecker(schema);
                    _checkers[index] = checker;
                }

                if (EarlyViolation is null && !checker.Add(text))
                {
                    EarlyViolation = checker.Violation! with { Path = $"/choices/{index}/message/content{checker.Violation!.Path}" };
                }
            };
        }

        if (expectation.Policy != StructuredOutputPolicy.Annotate && expectation.ToolsJson.Count > 0)
        {
            Collector.OnArguments = (choice, call, name, text) =>
            {
                if (Collector.Incomplete)
                {
                    return;
                }

                if (!_argumentCheckers.TryGetValue((choice, call), out var checker))
                {
                    // An unknown function is a violation at the end; its arguments are not checked early.
                    checker = name is not null && expectation.ToolsJson.TryGetValue(name, out var parameters) ? new IncrementalJsonChecker(parameters) : null;
                    _argumentCheckers[(choice, call)] = checker;
                }

                if (checker is not null && EarlyViolation is null && !checker.Add(text))
                {
                    EarlyViolation = checker.Violation! with { Path = $"/choices/{choice}/message/tool_calls/{call}/function/arguments{checker.Violation!.Path}" };
                }
            };
        }
    }

    /// <summary>The answer so far.</summary>
    public StreamAnswerCollector Collector { get; } = new();

    /// <summary>Answers asked for so far (this one included).</summary>
    public int Attempts { get; }

    /// <summary>True when a failed buffered answer may be asked for again (<c>retry</c> with <c>stream_mode: buffer</c>).</summary>
    public bool CanRetry => Buffered && expectation.Policy == StructuredOutputPolicy.Retry && Attempts < expectation.MaxAttempts;

    /// <summary>True when events are held until the answer is validated (<c>stream_mode: buffer</c> under reject/retry).</summary>
    public bool Buffered => expectation.StreamBuffer && expectation.Policy != StructuredOutputPolicy.Annotate;

    /// <summary>The error of a failed answer as a JSON body (buffered streams answer 422 with it).</summary>
    public static byte[] ErrorJson(IReadOnlyList<Violation> violations)
        => Errors.ErrorWriter.Serialize($"The model's answer does not match the schema of the request: {new Verdict(Verdict.Failed, violations, null).Describe()}",
            Errors.ErrorWriter.TypeOf(Errors.LlmError.StructuredOutputInvalid), "response_format", Errors.ErrorWriter.CodeOf(Errors.LlmError.StructuredOutputInvalid));

    /// <summary>The violations of the last <see cref="Finish"/> (empty unless it failed).</summary>
    public IReadOnlyList<Violation> Violations { get; private set; } = [];

    /// <summary>Set as soon as the streamed content can no longer become valid (reject and retry only).</summary>
    public Violation? EarlyViolation { get; private set; }

    /// <summary>
    /// Ends a stream stopped early: counts the abort and the output tokens it saved (the cap minus what was
    /// generated), logs it, and returns the comment and error event to send in place of the rest.
    /// </summary>
    public byte[] Abort(long generatedTokens, long maxOutputTokens)
    {
        var violation = EarlyViolation!;
        var verdict = new Verdict(Verdict.Failed, [violation], null);
        metrics.ValidationResult(model, Verdict.Failed, expectation.Policy.Name());
        metrics.ValidationEarlyAbort(model, Math.Max(0, maxOutputTokens - generatedTokens));
        Log.Failed(logger, requestId, model, 1, "stopped early: " + verdict.Describe());
        var error = Errors.ErrorWriter.Serialize($"The model's answer stopped matching the schema of the request, so the gateway stopped it: {verdict.Describe()}",
            Errors.ErrorWriter.TypeOf(Errors.LlmError.StructuredOutputInvalid), "response_format", Errors.ErrorWriter.CodeOf(Errors.LlmError.StructuredOutputInvalid));
        return Streaming.SseFrames.CommentThenError("llmproxy-validation failed", error);
    }

    /// <summary>
    /// Validates what was collected, counts and logs it, and returns what to send before <c>[DONE]</c>: the verdict
    /// comment, or — under <c>reject</c>, for a failed answer — an OpenAI-shaped error event, after which the stream
    /// ends without <c>[DONE]</c> (<paramref name="endsStream"/>).
    /// </summary>
    public byte[] Finish(out bool endsStream)
    {
        var verdict = Collector.Incomplete
            ? new Verdict(Verdict.Skipped, [], "an event too large to check")
            : AnswerValidator.Validate(Collector.ToCompletion(), expectation);
        metrics.ValidationResult(model, verdict.Result, expectation.Policy.Name());
        Violations = verdict.Violations;
        endsStream = false;
        var line = "llmproxy-validation " + verdict.Result;
        if (verdict.Result == Verdict.Failed)
        {
            Log.Failed(logger, requestId, model, verdict.Violations.Count, verdict.Describe());
            // Retry cannot ask again once the chunks have gone: a stream under retry ends like one under reject.
            if (expectation.Policy != StructuredOutputPolicy.Annotate)
            {
                endsStream = true;
                return Streaming.SseFrames.CommentThenError(line, ErrorJson(verdict.Violations));
            }

            line += " " + JsonSerializer.Serialize(verdict.Violations.Select(static v => new { path = v.Path, keyword = v.Keyword, message = v.Message }));
        }

        return Streaming.SseFrames.Comment(line);
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = EventIds.ValidationFailed, Level = LogLevel.Information,
            Message = "request {RequestId} model={Model} stream: the answer broke its schema ({Count} violations): {Violations}")]
        public static partial void Failed(ILogger logger, string requestId, string model, int count, string violations);
    }
}
