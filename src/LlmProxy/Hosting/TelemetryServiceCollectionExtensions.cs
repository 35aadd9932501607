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

        return builder;
    }
}
