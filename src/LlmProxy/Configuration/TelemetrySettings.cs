namespace LlmProxy.Configuration;

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
