using LlmProxy.RateLimiting;
using LlmProxy.Telemetry;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace LlmProxy.Hosting;

/// <summary>OpenTelemetry: the gateway's meter on <c>/metrics</c> (Prometheus text) and, when configured, OTLP.</summary>
public static class TelemetryServiceCollectionExtensions
{
    private const string HostingDiagnostics = "Microsoft.AspNetCore.Hosting.Diagnostics";

    /// <summary>
    /// Adds metrics (meter <c>LlmProxy</c>) with the Prometheus exporter. When <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set,
    /// traces (gateway, ASP.NET Core, HttpClient, Redis) are recorded and metrics and traces are exported by OTLP.
    /// </summary>
    public static WebApplicationBuilder AddLlmProxyTelemetry(this WebApplicationBuilder builder)
    {
        var otel = builder.Services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService("llmproxy"))
            .WithMetrics(metrics => metrics
                .AddMeter(LlmProxyMetrics.MeterName)
                .AddPrometheusExporter());

        // Spans cost CPU on every request once something listens: trace only when they are exported.
        if (!string.IsNullOrWhiteSpace(builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]))
        {
            otel.WithTracing(tracing => tracing
                    .AddSource(LlmProxyActivity.SourceName)
                    .AddAspNetCoreInstrumentation()
                    .AddHttpClientInstrumentation()
                    // The gateway makes its Redis connections itself (and anew after a reload): each is handed to the
                    // instrumentation. Commands become spans within a second (the library's default is 10 s).
                    .AddRedisInstrumentation(options => options.FlushInterval = TimeSpan.FromSeconds(1))
                    .ConfigureRedisInstrumentation(static (services, instrumentation) => services.GetRequiredService<RedisConnection>().TraceWith(instrumentation)))
                .UseOtlpExporter();
        }
        else if (builder.Configuration[$"Logging:LogLevel:{HostingDiagnostics}"] is null)
        {
            // ASP.NET Core starts an Activity for every request while its hosting log category is enabled at any level,
            // and HttpClient then starts a child and writes traceparent: about 2 KB and a tenth of the gateway's CPU per
            // request, for spans nobody exports. Its request-start/finish lines are off unless configured by name.
            builder.Logging.AddFilter(HostingDiagnostics, LogLevel.None);
        }

        return builder;
    }
}
