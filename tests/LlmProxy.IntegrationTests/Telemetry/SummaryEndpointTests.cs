using System.Text.Json.Nodes;
using LlmProxy.IntegrationTests.Infrastructure;
using LlmProxy.Telemetry;
using Microsoft.Extensions.DependencyInjection;

namespace LlmProxy.IntegrationTests.Telemetry;

public sealed class SummaryEndpointTests
{
    [Fact]
    public async Task Summary_AfterSimulatedStreams_HasTheDocumentedShape()
    {
        var sink = new CapturingSink();
        var config = TestConfig.Simulated(new JsonObject { ["ttft_ms"] = 20, ["inter_token_ms"] = 5, ["default_max_tokens"] = 4 });
        config["models"]!["sim-chat"]!["targets"]![0]!["pricing"] = new JsonObject { ["input_per_1m"] = 1, ["output_per_1m"] = 1 };
        await using var app = GatewayApp.Start(config.ToJsonString(), services => services.AddSingleton<IUsageSink>(sink));
        using var client = app.CreateClient();
        for (var i = 0; i < 3; i++)
        {
            using var response = await client.PostJsonAsync("/v1/chat/completions", """{"model":"sim-chat","stream":true,"messages":[{"role":"user","content":"hello"}]}""");
            await response.Content.ReadAsStringAsync();
            await sink.NextAsync();
        }

        var summary = JsonNode.Parse(await app.CreateClient(key: null).GetStringAsync("/metrics/summary"))!;

        Assert.Equal(5, (int)summary["window_minutes"]!);
        var model = summary["llm"]!["models"]!["sim-chat"]!;
        Assert.Equal(3, (int)model["requests"]!);
        Assert.Equal(12, (long)model["tokens"]!["output"]!);
        Assert.True((double)model["cost_usd"]! > 0);
        // The simulator's delays run on .NET timers, which tick on a coarse clock (a few ms on Linux): a 20 ms delay can end
        // a tick early, so the bounds allow one tick per delay.
        const double Tick = 4;
        var total = model["timing"]!["total"]!;
        Assert.True((double)total["average"]! >= 35 - (4 * Tick));
        foreach (var p in new[] { "p50", "p90", "p95", "p99" })
        {
            Assert.True((double)total["percentiles"]![p]! >= 35 - (4 * Tick), p);
        }

        Assert.True((double)model["timing"]!["time_to_first_token"]!["percentiles"]!["p50"]! >= 20 - Tick);
        // The per-token gap is observed inside the gateway (thread-pool lag can shorten it): compare with the records.
        var perToken = sink.Records.Select(r => r.TimePerOutputToken!.Value * 1000).Order().ToList();
        Assert.Equal(perToken[1], (double)model["timing"]!["time_per_token"]!["percentiles"]!["p50"]!, perToken[1] * 0.02);
        Assert.NotNull(model["errors"]);
    }

    [Fact]
    public async Task Summary_UnconfiguredWindow_Returns400()
    {
        await using var app = TestConfig.Simulated().Start();

        using var response = await app.CreateClient(key: null).GetAsync("/metrics/summary?window=7");

        await OpenAIError.AssertAsync(response, 400, "invalid_request_error", null);
    }
}
