using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using LlmProxy.IntegrationTests.Infrastructure;
using LlmProxy.Telemetry;
using Microsoft.Extensions.DependencyInjection;

namespace LlmProxy.IntegrationTests.Telemetry;

/// <summary>The Grafana dashboard shipped for the Helm chart queries only metric series the gateway really exports.</summary>
public sealed partial class GrafanaDashboardTests
{
    [Fact]
    public async Task Dashboard_EveryQueriedMetric_IsInTheScrape()
    {
        var dashboard = JsonNode.Parse(File.ReadAllText(Path.Combine(RepoPaths.Root, "helm", "llmproxy", "dashboards", "llmproxy.json")))!;
        var expressions = dashboard["panels"]!.AsArray().SelectMany(p => p!["targets"]!.AsArray()).Select(t => (string)t!["expr"]!).ToList();
        var queried = expressions.SelectMany(e => MetricName().Matches(e).Select(m => m.Value)).ToHashSet(StringComparer.Ordinal);

        var sink = new CapturingSink();
        var config = TestConfig.Simulated();
        config["models"]!["sim-chat"]!["targets"]![0]!["pricing"] = new JsonObject { ["input_per_1m"] = 1, ["output_per_1m"] = 1 };
        config["models"]!["priceless"] = new JsonObject { ["targets"] = new JsonArray(new JsonObject { ["provider"] = "sim" }) };
        await using var app = GatewayApp.Start(config.ToJsonString(), services => services.AddSingleton<IUsageSink>(sink));
        using var client = app.CreateClient();
        foreach (var body in new[]
        {
            """{"model":"sim-chat","messages":[]}""",
            """{"model":"sim-chat","stream":true,"messages":[]}""",
            """{"model":"priceless","messages":[]}""",
            """{"model":"missing"}""",
        })
        {
            using var response = await client.PostJsonAsync("/v1/chat/completions", body);
            await response.Content.ReadAsStringAsync();
            await sink.NextAsync();
        }

        await File.AppendAllTextAsync(app.ConfigPath, "\n");
        Assert.True(app.Store.Reload() || app.Store.ReloadCount > 0);
        var scrape = await app.CreateClient(key: null).GetStringAsync("/metrics");

        Assert.True(queried.Count >= 10, string.Join(", ", queried));
        Assert.All(queried, name => Assert.Contains("\n" + name + "{", "\n" + scrape, StringComparison.Ordinal));
    }

    [GeneratedRegex(@"\b(?:gen_ai|llmproxy)_[A-Za-z0-9_]+(?=[{\[])")]
    private static partial Regex MetricName();
}
