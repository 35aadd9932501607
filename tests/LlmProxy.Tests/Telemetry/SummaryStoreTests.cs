using LlmProxy.Configuration;
using LlmProxy.Telemetry;
using LlmProxy.Tests.Configuration;
using LlmProxy.Usage;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace LlmProxy.Tests.Telemetry;

public sealed class SummaryStoreTests : IDisposable
{
    private readonly DirectoryInfo _directory = Directory.CreateTempSubdirectory("llmproxy-summary-");
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 25, 12, 0, 30, TimeSpan.Zero));
    private readonly ConfigStore _store;
    private readonly SummaryStore _summary;

    public SummaryStoreTests()
    {
        var path = Path.Combine(_directory.FullName, "llmproxy.json");
        File.WriteAllText(path, """
            {
              "providers": { "a": { "type": "openai-compatible", "base_url": "http://a.example/v1" } },
              "models": { "m": { "targets": [ { "provider": "a" } ] } },
              "auth": { "mode": "none" },
              "telemetry": { "summary_windows_minutes": [ 5, 60 ] }
            }
            """);
        _store = new ConfigStore(path, SnapshotBuilderTests.Builder(), NullLogger<ConfigStore>.Instance, _time);
        _store.LoadInitial();
        _summary = new SummaryStore(_time, _store);
    }

    public void Dispose()
    {
        _store.Dispose();
        _directory.Delete(recursive: true);
    }

    private static UsageRecord Record(double seconds, double? ttft = null, double? perToken = null, decimal? cost = 0.001m, ErrorCategory error = ErrorCategory.None, string model = "m")
        => new()
        {
            RequestId = "r",
            Operation = "chat",
            RequestModel = model,
            Model = model,
            Status = error == ErrorCategory.None ? 200 : 502,
            Error = error,
            Usage = error == ErrorCategory.None ? new TokenUsage(10, 5, 0, 0, false) : null,
            CostUsd = error == ErrorCategory.None ? cost : null,
            Duration = seconds,
            TimeToFirstToken = ttft,
            TimePerOutputToken = perToken,
        };

    [Fact]
    public void Summarize_KnownLatencies_PercentilesWithinHistogramPrecision()
    {
        for (var ms = 1; ms <= 100; ms++)
        {
            _summary.Record(Record(ms / 1000.0, ttft: ms / 10000.0));
        }

        var model = _summary.Summarize(5).Llm.Models["m"];

        var total = model.Timing.Total!;
        Assert.Equal(50.5, total.Average, 0.5);
        Assert.Equal(50, total.Percentiles.P50, 0.5);
        Assert.Equal(90, total.Percentiles.P90, 0.9);
        Assert.Equal(95, total.Percentiles.P95, 0.95);
        Assert.Equal(99, total.Percentiles.P99, 0.99);
        Assert.Equal(9.9, model.Timing.TimeToFirstToken!.Percentiles.P99, 0.1);
        Assert.Null(model.Timing.TimePerToken);
        Assert.Equal(100, model.Requests);
        Assert.Equal(1000, model.Tokens.Input);
        Assert.Equal(500, model.Tokens.Output);
        Assert.Equal(0.1m, model.CostUsd);
        Assert.Equal(0, model.CostUnknownRequests);
    }

    [Fact]
    public void Summarize_ErrorsAndUnknownCost_CountedSeparately()
    {
        _summary.Record(Record(0.01, cost: null));
        _summary.Record(Record(0.02, error: ErrorCategory.UpstreamTimeout));
        _summary.Record(Record(0.03, error: ErrorCategory.UpstreamTimeout));
        _summary.Record(Record(0.04, error: ErrorCategory.Auth, model: "unknown"));

        var models = _summary.Summarize(5).Llm.Models;

        Assert.Equal(1, models["m"].CostUnknownRequests);
        Assert.Equal(0m, models["m"].CostUsd);
        Assert.Equal(2, models["m"].Errors["upstream_timeout"]);
        Assert.Equal(1, models["unknown"].Errors["auth"]);
    }

    [Fact]
    public void Summarize_OlderThanWindow_LeftOutOfShortWindowOnly()
    {
        _summary.Record(Record(0.5));
        _time.Advance(TimeSpan.FromMinutes(6));
        _summary.Record(Record(0.1));

        var shortWindow = _summary.Summarize(5).Llm.Models["m"];
        var longWindow = _summary.Summarize(60).Llm.Models["m"];

        Assert.Equal(1, shortWindow.Requests);
        Assert.Equal(100, shortWindow.Timing.Total!.Percentiles.P99, 1.0);
        Assert.Equal(2, longWindow.Requests);
        _time.Advance(TimeSpan.FromMinutes(61));
        Assert.Empty(_summary.Summarize(60).Llm.Models);
    }

    [Fact]
    public void Record_SlotReusedAfterAnHour_OldCountsCleared()
    {
        _summary.Record(Record(0.5));
        _time.Advance(TimeSpan.FromMinutes(61));
        _summary.Record(Record(0.2));

        var model = _summary.Summarize(60).Llm.Models["m"];

        Assert.Equal(1, model.Requests);
        Assert.Equal(200, model.Timing.Total!.Percentiles.P50, 2.0);
    }
}
