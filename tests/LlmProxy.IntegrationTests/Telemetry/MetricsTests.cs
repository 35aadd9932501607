using LlmProxy.IntegrationTests.Infrastructure;
using LlmProxy.Telemetry;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;
using WireMock.Server;

namespace LlmProxy.IntegrationTests.Telemetry;

public sealed class MetricsTests : IDisposable
{
    private const string Answer = """{"model":"upstream-model","choices":[],"usage":{"prompt_tokens":100,"completion_tokens":20,"total_tokens":120}}""";
    private readonly WireMockServer _upstream = WireMockServer.Start();

    public MetricsTests()
        => _upstream.Given(Request.Create().UsingPost()).RespondWith(Response.Create().WithStatusCode(200).WithBody(Answer));

    public void Dispose() => _upstream.Stop();

    private static MetricCollector<T> Collect<T>(GatewayApp app, string instrument)
        where T : struct
        => new(app.Services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>(), LlmProxyMetrics.MeterName, instrument);

    private static async Task SendAndWaitAsync(GatewayApp app, HttpClient client, string body)
    {
        var sink = app.Services.GetServices<IUsageSink>().OfType<CapturingSink>().Single();
        using var response = await client.PostJsonAsync("/v1/chat/completions", body);
        await sink.NextAsync();
    }

    private GatewayApp Start(bool withTeam = true)
    {
        var config = TestConfig.SingleModel(_upstream.Url! + "/v1");
        if (withTeam)
        {
            config["keys"]![0]!["team"] = "search";
        }

        config["models"]!["test-model"]!["targets"]![0]!["pricing"] = new System.Text.Json.Nodes.JsonObject { ["input_per_1m"] = 1, ["output_per_1m"] = 2 };
        return GatewayApp.Start(config.ToJsonString(), services => services.AddSingleton<IUsageSink>(new CapturingSink()));
    }

    [Fact]
    public async Task TokenUsage_Request_RecordsInputAndOutputWithGenAiAttributes()
    {
        await using var app = Start();
        using var tokens = Collect<long>(app, "gen_ai.client.token.usage");
        using var client = app.CreateClient();

        await SendAndWaitAsync(app, client, """{"model":"test-model"}""");

        var measurements = tokens.GetMeasurementSnapshot();
        var input = Assert.Single(measurements, m => (string?)m.Tags["gen_ai.token.type"] == "input");
        var output = Assert.Single(measurements, m => (string?)m.Tags["gen_ai.token.type"] == "output");
        Assert.Equal(100, input.Value);
        Assert.Equal(20, output.Value);
        Assert.Equal("chat", input.Tags["gen_ai.operation.name"]);
        Assert.Equal("test-model", input.Tags["gen_ai.request.model"]);
        Assert.Equal("upstream-model", input.Tags["gen_ai.response.model"]);
        Assert.Equal("up", input.Tags["gen_ai.provider.name"]);
    }

    [Fact]
    public async Task DurationOverheadRequestsCost_Request_RecordedOnceWithBoundedLabels()
    {
        await using var app = Start();
        using var duration = Collect<double>(app, "gen_ai.server.request.duration");
        using var overhead = Collect<double>(app, "llmproxy.gateway.overhead");
        using var upstream = Collect<double>(app, "llmproxy.upstream.duration");
        using var requests = Collect<long>(app, "llmproxy.requests");
        using var cost = Collect<double>(app, "llmproxy.cost");
        using var keyTokens = Collect<long>(app, "llmproxy.tokens");
        using var client = app.CreateClient();

        await SendAndWaitAsync(app, client, """{"model":"test-model"}""");
        requests.RecordObservableInstruments();
        cost.RecordObservableInstruments();
        keyTokens.RecordObservableInstruments();

        Assert.True(Assert.Single(duration.GetMeasurementSnapshot()).Value > 0);
        Assert.InRange(Assert.Single(overhead.GetMeasurementSnapshot()).Value, 0, 5);
        Assert.Single(upstream.GetMeasurementSnapshot());
        var request = Assert.Single(requests.GetMeasurementSnapshot());
        Assert.Equal(200, request.Tags["http.response.status_code"]);
        Assert.Equal("none", request.Tags["error.type"]);
        var spent = Assert.Single(cost.GetMeasurementSnapshot());
        Assert.Equal((100 * 1.0 + 20 * 2.0) / 1_000_000, spent.Value, 12);
        Assert.Equal("alpha", spent.Tags["llmproxy.key.id"]);
        Assert.Equal("search", spent.Tags["llmproxy.team"]);
        Assert.Equal(120, keyTokens.GetMeasurementSnapshot().Sum(m => m.Value));
    }

    [Fact]
    public async Task ErrorType_UnknownModel_LabelledNotFound()
    {
        await using var app = Start();
        using var duration = Collect<double>(app, "gen_ai.server.request.duration");
        using var client = app.CreateClient();

        await SendAndWaitAsync(app, client, """{"model":"no-such"}""");

        var measurement = Assert.Single(duration.GetMeasurementSnapshot());
        Assert.Equal("not_found", measurement.Tags["error.type"]);
        Assert.Equal("unknown", measurement.Tags["gen_ai.request.model"]);
    }

    [Fact]
    public async Task Active_RequestInFlight_CountedThenBackToZero()
    {
        var arrived = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var upstream = await TestUpstream.StartAsync(async context =>
        {
            arrived.TrySetResult();
            await release.Task;
            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync(Answer);
        });
        var sink = new CapturingSink();
        await using var app = GatewayApp.Start(TestConfig.SingleModel(upstream.Address + "/v1").ToJsonString(), services => services.AddSingleton<IUsageSink>(sink));
        using var active = Collect<long>(app, "llmproxy.requests.active");
        using var client = app.CreateClient();

        var inFlight = client.PostJsonAsync("/v1/chat/completions", """{"model":"test-model"}""");
        await arrived.Task.WaitAsync(TimeSpan.FromSeconds(20));
        active.RecordObservableInstruments();
        var during = active.LastMeasurement!.Value;
        release.TrySetResult();
        using (await inFlight)
        {
        }

        await sink.NextAsync();
        active.RecordObservableInstruments();

        Assert.Equal(1, during);
        Assert.Equal(0, active.LastMeasurement!.Value);
    }

    [Fact]
    public async Task MetricsEndpoint_AfterTraffic_PrometheusTextWithGenAiNamesAndNoKeys()
    {
        await using var app = Start();
        using var client = app.CreateClient();
        await SendAndWaitAsync(app, client, """{"model":"test-model"}""");
        using var wrongKey = app.CreateClient("sk-secret-wrong-key-777");
        using var rejected = await wrongKey.PostJsonAsync("/v1/chat/completions", """{"model":"test-model"}""");

        // The exporter caches a scrape briefly; the request above is already recorded.
        var text = await app.CreateClient(key: null).GetStringAsync("/metrics");

        Assert.Contains("# TYPE gen_ai_client_token_usage histogram", text, StringComparison.Ordinal);
        Assert.Contains("gen_ai_server_request_duration_seconds_bucket{", text, StringComparison.Ordinal);
        Assert.Contains("llmproxy_gateway_overhead_seconds_bucket{", text, StringComparison.Ordinal);
        Assert.Contains("le=\"0.01\"", text, StringComparison.Ordinal);
        Assert.Contains("llmproxy_cost_USD_total{", text, StringComparison.Ordinal);
        Assert.Contains("gen_ai_request_model=\"test-model\"", text, StringComparison.Ordinal);
        Assert.Contains("llmproxy_key_id=\"alpha\"", text, StringComparison.Ordinal);
        Assert.DoesNotContain(TestKeys.Alpha, text, StringComparison.Ordinal);
        Assert.DoesNotContain("sk-secret-wrong-key", text, StringComparison.Ordinal);
        Assert.DoesNotContain(TestKeys.ProviderSecret, text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task StreamTimings_SimulatedStream_TimeToFirstTokenAndPerTokenRecorded()
    {
        var config = TestConfig.Simulated(new System.Text.Json.Nodes.JsonObject { ["ttft_ms"] = 30, ["inter_token_ms"] = 10, ["default_max_tokens"] = 4 });
        var sink = new CapturingSink();
        await using var app = GatewayApp.Start(config.ToJsonString(), services => services.AddSingleton<IUsageSink>(sink));
        using var ttft = Collect<double>(app, "gen_ai.server.time_to_first_token");
        using var perToken = Collect<double>(app, "gen_ai.server.time_per_output_token");
        using var unknownCost = Collect<long>(app, "llmproxy.cost.unknown");
        using var client = app.CreateClient();

        using var response = await client.PostJsonAsync("/v1/chat/completions", """{"model":"sim-chat","stream":true,"messages":[]}""");
        await response.Content.ReadAsStringAsync();
        var record = await sink.NextAsync();
        unknownCost.RecordObservableInstruments();

        // TTFT includes the gateway's own forwarding, so the simulator's delay is a hard lower bound. The per-token
        // gap is measured between two observations inside the gateway, so thread-pool lag at the first token can
        // shorten it: it is checked against the request's own record instead of against the configured delay.
        Assert.InRange(Assert.Single(ttft.GetMeasurementSnapshot()).Value, 0.030, 10);
        var perTokenValue = Assert.Single(perToken.GetMeasurementSnapshot()).Value;
        Assert.Equal(record.TimePerOutputToken, perTokenValue);
        Assert.InRange(perTokenValue, 0.001, 10);
        Assert.Equal(1, Assert.Single(unknownCost.GetMeasurementSnapshot()).Value);
    }

    [Fact]
    public async Task ConfigReloads_AppliedAndRejected_CountedByOutcome()
    {
        await using var app = Start();
        using var reloads = Collect<long>(app, "llmproxy.config.reloads");
        var original = await File.ReadAllTextAsync(app.ConfigPath);

        await File.WriteAllTextAsync(app.ConfigPath, original + " ");
        app.Store.Reload();
        await File.WriteAllTextAsync(app.ConfigPath, "{ not json");
        app.Store.Reload();

        var outcomes = reloads.GetMeasurementSnapshot().Select(m => (string?)m.Tags["outcome"]).ToList();
        Assert.Contains("applied", outcomes);
        Assert.Contains("rejected", outcomes);
    }
}
