using System.Text;
using System.Text.Json;
using LlmProxy.Telemetry;

namespace LlmProxy.StructuredOutput;

/// <summary>
/// Validation of a streamed chat answer: the chunks pass through untouched while they are collected; before
/// <c>data: [DONE]</c> the verdict is sent as an SSE comment, which SSE clients (the OpenAI SDKs included) ignore:
/// <c>: llmproxy-validation passed</c>, <c>skipped</c>, or <c>failed [{"path":…,"keyword":…,"message":…}]</c>.
/// Under <c>reject</c> (pass-through: the chunks have already gone) a failed answer ends with an OpenAI-shaped
/// error event and no <c>[DONE]</c>.
/// </summary>
internal sealed partial class StreamValidation(OutputExpectation expectation, string model, string requestId, LlmProxyMetrics metrics, ILogger logger)
{
    /// <summary>The answer so far.</summary>
    public StreamAnswerCollector Collector { get; } = new();

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
        metrics.ValidationResult(model, verdict.Result, expectation.Policy);
        endsStream = false;
        var line = ": llmproxy-validation " + verdict.Result;
        if (verdict.Result == Verdict.Failed)
        {
            Log.Failed(logger, requestId, model, verdict.Violations.Count, verdict.Describe());
            // Retry cannot ask again once the chunks have gone: a stream under retry ends like one under reject.
            if (expectation.Policy != Configuration.StructuredOutputPolicies.Annotate)
            {
                endsStream = true;
                var error = Errors.ErrorWriter.Serialize($"The model's answer does not match the schema of the request: {verdict.Describe()}",
                    Errors.ErrorWriter.TypeOf(Errors.LlmError.StructuredOutputInvalid), "response_format", Errors.ErrorWriter.CodeOf(Errors.LlmError.StructuredOutputInvalid));
                return [.. Encoding.UTF8.GetBytes(line + "\n\ndata: "), .. error, .. "\n\n"u8];
            }

            line += " " + JsonSerializer.Serialize(verdict.Violations.Select(static v => new { path = v.Path, keyword = v.Keyword, message = v.Message }));
        }

        return Encoding.UTF8.GetBytes(line + "\n\n");
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = EventIds.ValidationFailed, Level = LogLevel.Information,
            Message = "request {RequestId} model={Model} stream: the answer broke its schema ({Count} violations): {Violations}")]
        public static partial void Failed(ILogger logger, string requestId, string model, int count, string violations);
    }
}
