namespace LlmProxy.Telemetry;

/// <summary><c>GET /dashboard</c>: a static page that polls <c>/metrics/summary</c> and draws the figures (no external scripts).</summary>
internal static class DashboardEndpoints
{
    private static readonly Lazy<byte[]> Page = new(() =>
    {
        using var stream = typeof(DashboardEndpoints).Assembly.GetManifestResourceStream("LlmProxy.Telemetry.Dashboard.dashboard.html")
            ?? throw new InvalidOperationException("The dashboard page is not embedded.");
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    });

    /// <summary>Maps the page.</summary>
    public static IEndpointConventionBuilder MapDashboard(this IEndpointRouteBuilder endpoints)
        => endpoints.MapGet("/dashboard", () => Results.Bytes(Page.Value, "text/html; charset=utf-8"))
            .WithName("Dashboard").WithTags("Telemetry").WithSummary("Live dashboard of /metrics/summary.");
}
