using System.Text;
using System.Text.Json;
using LlmProxy.Telemetry;

namespace LlmProxy.StructuredOutput;

/// <summary>
/// Validation of a streamed chat answer: the chunks pass through untouched while they are collected; before
/// <c>data: [DONE]</c> the verdict is sent as an SSE comment, which SSE clients (the OpenAI SDKs included) ignore:
/// <c>: llmproxy-validation passed</c>, <c>skipped</c>, or <c>failed [{"path":…,"keyword":…,"message":…}]</c>.
/// </summary>
internal sealed partial class StreamValidation(OutputExpectation expectation, string model, string requestId, LlmProxyMetrics metrics, ILogger logger)
{
    /// <summary>The answer so far.</summary>
    public StreamAnswerCollector Collector { get; } = new();

    /// <summary>Validates what was collected, counts and logs it, and returns the comment event to send.</summary>
    public byte[] Finish()
    {
        var verdict = Collector.Incomplete
            ? new Verdict(Verdict.Skipped, [], "an event too large to check")
            : AnswerValidator.Validate(Collector.ToCompletion(), expectation);
        metrics.ValidationResult(model, verdict.Result, expectation.Policy);
        var line = ": llmproxy-validation " + verdict.Result;
        if (verdict.Result == Verdict.Failed)
        {
            Log.Failed(logger, requestId, model, verdict.Violations.Count, verdict.Describe());
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
