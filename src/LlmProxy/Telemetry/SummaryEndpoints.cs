using LlmProxy.Errors;

namespace LlmProxy.Telemetry;

/// <summary><c>GET /metrics/summary?window=N</c>: the JSON summary for one of the configured windows (default: the first).</summary>
internal static class SummaryEndpoints
{
    /// <summary>Maps the endpoint.</summary>
    public static IEndpointConventionBuilder MapMetricsSummary(this IEndpointRouteBuilder endpoints)
        => endpoints.MapGet("/metrics/summary", Handle)
            .WithName("MetricsSummary").WithTags("Telemetry")
            .WithSummary("Per-model latency percentiles, time to first token, time per token, tokens, cost and errors over a sliding window.")
            .Produces<SummaryDocument>();

    // The query value is read as text: a minimal-API int binding answers "window=abc" with an empty 400.
    private static async Task Handle(HttpContext context, SummaryStore store, string? window)
    {
        var windows = store.Windows;
        var minutes = windows[0];
        if (window is not null && (!int.TryParse(window, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out minutes)
            || !windows.Contains(minutes)))
        {
            await ErrorWriter.WriteAsync(context, LlmError.InvalidRequest,
                $"window must be one of the configured windows: {string.Join(", ", windows)} (minutes)", "window");
            return;
        }

        await Results.Json(store.Summarize(minutes), SummaryJson.Default.SummaryDocument).ExecuteAsync(context);
    }
}
