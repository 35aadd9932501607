using System.Globalization;

namespace LlmProxy.Telemetry;

/// <summary>
/// One structured log line per request (event id 3001): ids, key id and team, model and target, status, tokens,
/// cost, latency, time to first token, error category, and the provider's response id and finish reason. Never prompts, answers or keys.
/// </summary>
internal sealed partial class RequestLogSink : IUsageSink
{
    /// <summary>Longest prompt or answer logged (opt-in, Debug only).</summary>
    public const int MaxBodyChars = 16 * 1024;

    private readonly ILogger<RequestLogSink> _logger;

    public RequestLogSink(ILogger<RequestLogSink> logger) => _logger = logger;

    /// <summary>True when prompts and answers may be logged: the config opted in and Debug is on.</summary>
    public bool BodiesEnabled(bool optedIn) => optedIn && _logger.IsEnabled(LogLevel.Debug);

    /// <summary>Logs the prompt and the (non-streamed) answer at Debug; only called when <see cref="BodiesEnabled"/>.</summary>
    public void LogBodies(string requestId, string? prompt, string? answer)
        => Log.Bodies(_logger, requestId, prompt ?? "(not read)", answer ?? "(streamed or not captured)");

    /// <summary>True when the per-request line is written (Information is on).</summary>
    public bool Enabled => _logger.IsEnabled(LogLevel.Information);

    public void Record(UsageRecord record)
    {
        if (!_logger.IsEnabled(LogLevel.Information))
        {
            return;
        }

        Log.Request(
            _logger,
            record.RequestId,
            record.KeyId ?? "-",
            record.Team ?? "-",
            record.RequestModel,
            record.Provider is null ? "-" : record.Provider + "/" + record.Target,
            record.Status,
            record.Error.Name(),
            record.Usage?.Input,
            record.Usage?.Output,
            record.Usage?.Estimated,
            record.CostUsd?.ToString("0.########", CultureInfo.InvariantCulture) ?? "unknown",
            Math.Round(record.Duration * 1000, 3),
            record.TimeToFirstToken is { } ttft ? Math.Round(ttft * 1000, 3) : null,
            Math.Round(record.Overhead * 1000, 3),
            record.ResponseId ?? "-",
            record.FinishReason ?? "-");
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = EventIds.RequestBodies, Level = LogLevel.Debug, Message = "bodies of request {RequestId}: prompt={Prompt} answer={Answer}")]
        public static partial void Bodies(ILogger logger, string requestId, string prompt, string answer);

        [LoggerMessage(EventId = EventIds.RequestCompleted, Level = LogLevel.Information,
            Message = "request {RequestId} key={KeyId} team={Team} model={Model} target={Target} status={Status} error={ErrorType} "
                + "input_tokens={InputTokens} output_tokens={OutputTokens} estimated={Estimated} cost_usd={CostUsd} "
                + "duration_ms={DurationMs} ttft_ms={TtftMs} overhead_ms={OverheadMs} response_id={ResponseId} finish_reason={FinishReason}")]
        public static partial void Request(ILogger logger, string requestId, string keyId, string team, string model, string target, int status,
            string errorType, long? inputTokens, long? outputTokens, bool? estimated, string costUsd, double durationMs, double? ttftMs, double overheadMs,
            string responseId, string finishReason);
    }
}
