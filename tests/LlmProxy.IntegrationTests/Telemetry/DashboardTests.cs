using System.Diagnostics;
using System.Text.RegularExpressions;
using LlmProxy.IntegrationTests.Infrastructure;
using LlmProxy.Telemetry;
using Microsoft.Extensions.DependencyInjection;

namespace LlmProxy.IntegrationTests.Telemetry;

/// <summary>The dashboard page rendered by headless Chromium (Debian's package; ./test.sh installs it).</summary>
public sealed partial class DashboardTests
{
    [Fact]
    public async Task Dashboard_InHeadlessChromium_ShowsTheModelsFigures()
    {
        var sink = new CapturingSink();
        await using var app = GatewayApp.Start(TestConfig.Simulated().ToJsonString(), services => services.AddSingleton<IUsageSink>(sink));
        using var client = app.CreateClient();
        for (var i = 0; i < 2; i++)
        {
            using var response = await client.PostJsonAsync("/v1/chat/completions", """{"model":"sim-chat","messages":[{"role":"user","content":"hi"}]}""");
            Assert.Equal(200, (int)response.StatusCode);
            await sink.NextAsync();
        }

        var dom = await RenderAsync(new Uri(app.BaseAddress, "dashboard?interval=300"));

        Assert.Contains("id=\"model-sim-chat\"", dom, StringComparison.Ordinal);
        Assert.Contains("<td data-field=\"requests\">2</td>", dom, StringComparison.Ordinal);
        Assert.Contains("<td data-field=\"output\">48</td>", dom, StringComparison.Ordinal);
        var points = PointsPattern().Match(dom);
        Assert.True(points.Success, "the p50 chart was not drawn");
        Assert.True(int.Parse(points.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) >= 1);
        Assert.Contains("window 5 min", dom, StringComparison.Ordinal);
        // Target health, from /health/ready?details=true.
        Assert.Contains("id=\"target-sim-chat#0\"", dom, StringComparison.Ordinal);
        Assert.Contains("<td data-field=\"state\" class=\"state-closed\">closed</td>", dom, StringComparison.Ordinal);
    }

    private static async Task<string> RenderAsync(Uri page)
    {
        var chromium = new[] { "/usr/bin/chromium", "/usr/bin/chromium-browser" }.FirstOrDefault(File.Exists)
            ?? throw new InvalidOperationException("chromium is not installed (./test.sh installs Debian's chromium package)");
        var profile = Directory.CreateTempSubdirectory("llmproxy-chromium-");
        try
        {
            var start = new ProcessStartInfo(chromium)
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            foreach (var argument in new[]
            {
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync", "--user-data-dir=" + profile.FullName,
                "--virtual-time-budget=3000", "--dump-dom", page.ToString(),
            })
            {
                start.ArgumentList.Add(argument);
            }

            using var process = Process.Start(start)!;
            var output = process.StandardOutput.ReadToEndAsync();
            var errors = process.StandardError.ReadToEndAsync();
            await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(90));
            var dom = await output;
            Assert.True(dom.Length > 0, "chromium printed no DOM: " + await errors);
            return dom;
        }
        finally
        {
            profile.Delete(recursive: true);
        }
    }

    [GeneratedRegex("id=\"chart-p50\"[^>]*data-points=\"(\\d+)\"")]
    private static partial Regex PointsPattern();
}
