using BenchmarkDotNet.Attributes;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using LlmProxy.Hosting;
using LlmProxy.Telemetry;
using LlmProxy.Usage;
using OpenTelemetry.Metrics;

namespace LlmProxy.MicroBench;

/// <summary>
/// What metering does once per finished request after the answer was read: hand one usage record to the metrics
/// (OpenTelemetry SDK with the Prometheus exporter listening, as in the gateway) and to the per-model summary.
/// The gateway's own services are built from its default config; the request log sink is left out because the
/// e2e bench runs at Warning, where it writes nothing.
/// </summary>
[MemoryDiagnoser]
public class MeteringBenchmarks
{
    private WebApplication _app = null!;
    private LlmProxyMetrics _metrics = null!;
    private SummaryStore _summary = null!;
    private UsageRecord _record = null!;

    [GlobalSetup]
    public void Setup()
    {
        var builder = WebApplication.CreateBuilder(["--urls", "http://127.0.0.1:0", "--Logging:LogLevel:Default", "Warning"]);
        builder.AddLlmProxy();
        _app = builder.Build();
        _ = _app.Services.GetRequiredService<MeterProvider>();
        _metrics = _app.Services.GetRequiredService<LlmProxyMetrics>();
        _summary = _app.Services.GetRequiredService<SummaryStore>();
        _record = new UsageRecord
        {
            RequestId = "req-1",
            Operation = "chat",
            RequestModel = "bench-model",
            Model = "bench-model",
            ResponseModel = "bench-upstream-model",
            Provider = "bench",
            ProviderSystem = "bench",
            Target = "bench-upstream-model",
            KeyId = "bench-key",
            Team = "bench-team",
            Status = 200,
            Usage = new TokenUsage(200, 180, 0, 0, false),
            CostUsd = 0.0012m,
            Duration = 0.0015,
            UpstreamDuration = 0.0012,
            Overhead = 0.0003,
            Timestamp = DateTimeOffset.UtcNow,
        };
    }

    [GlobalCleanup]
    public void Cleanup() => _app.DisposeAsync().AsTask().GetAwaiter().GetResult();

    [Benchmark]
    public void RecordMetrics() => _metrics.Record(_record);

    /// <summary>
    /// Both sinks and the in-flight counter, per request, with two threads recording at once (as on the 2-core bench
    /// machine): shared counters and histogram points move between the processors' caches.
    /// </summary>
    [Benchmark(OperationsPerInvoke = 2 * PerThread)]
    public void RecordAllTwoThreads()
    {
        var other = new Thread(RecordMany);
        other.Start();
        RecordMany();
        other.Join();
    }

    private const int PerThread = 20_000;

    private void RecordMany()
    {
        for (var i = 0; i < PerThread; i++)
        {
            _metrics.RequestActive(1);
            _metrics.RequestActive(-1);
            _metrics.Record(_record);
            _summary.Record(_record);
        }
    }

    [Benchmark]
    public void RecordSummary() => _summary.Record(_record);
}
