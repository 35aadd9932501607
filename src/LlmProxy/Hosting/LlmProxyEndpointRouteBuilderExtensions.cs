using LlmProxy.Auth;
using LlmProxy.Configuration;
using LlmProxy.Errors;
using LlmProxy.Providers;
using LlmProxy.RateLimiting;
using LlmProxy.Routing;
using LlmProxy.StructuredOutput;
using LlmProxy.Telemetry;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Scalar.AspNetCore;

namespace LlmProxy.Hosting;

/// <summary>Builds the request pipeline.</summary>
public static class LlmProxyEndpointRouteBuilderExtensions
{
    /// <summary>
    /// Loads the config (throws <see cref="InvalidConfigException"/> listing every error), then maps the stages:
    /// Authenticate → Read request → Route by model → Admit (rate limits) → Attempts (for each: YARP load balancing → Target (body rewrite) → YARP forwarder),
    /// plus /v1/models, health, OpenAPI and an OpenAI-shaped 404 for unknown paths.
    /// </summary>
    public static WebApplication MapLlmProxy(this WebApplication app)
    {
        var store = app.Services.GetRequiredService<ConfigStore>();
        store.LoadInitial();
        var redis = app.Services.GetRequiredService<RedisConnection>();
        redis.Warm(store.Current.RedisConnection, store.Current.Config.Redis.TimeoutMs);
        store.ReloadAttempted += _ => redis.Warm(store.Current.RedisConnection, store.Current.Config.Redis.TimeoutMs);

        app.UseMiddleware<MeteringMiddleware>();
        app.UseMiddleware<AuthMiddleware>();

        app.MapModels().WithMetadata(RequiresVirtualKeyAttribute.Instance);
        app.MapReverseProxy(proxy =>
        {
            proxy.UseMiddleware<ForwarderErrorMiddleware>();
            proxy.UseMiddleware<ReadRequestMiddleware>();
            proxy.UseMiddleware<ModelRoutingMiddleware>();
            proxy.UseMiddleware<StructuredOutputMiddleware>();
            proxy.UseMiddleware<AdmissionMiddleware>();
            proxy.UseMiddleware<Failover.AttemptMiddleware>();
            proxy.UseLoadBalancing();
            proxy.UseMiddleware<TargetMiddleware>();
        }).WithMetadata(RequiresVirtualKeyAttribute.Instance, MeteredAttribute.Instance);

        app.MapHealthChecks("/health/live", new HealthCheckOptions { Predicate = static _ => false });
        app.MapHealthChecks("/health/ready", new HealthCheckOptions { Predicate = static check => check.Tags.Contains("ready"), ResponseWriter = HealthReportWriter.WriteAsync });
        app.MapPrometheusScrapingEndpoint("/metrics");
        app.MapMetricsSummary();
        app.MapDashboard();
        // One document, at one fixed path: any other name falls through to the OpenAI-shaped 404.
        app.MapOpenApi("/openapi/v1.json");
        app.MapScalarApiReference("/docs");
        // "{**path}", not MapFallback's default "{*path:nonfile}": /.env and /v1/foo.json get the same OpenAI-shaped 404.
        app.MapFallback("{**path}", static context => ErrorWriter.WriteAsync(context, LlmError.UnknownPath,
            $"Invalid URL ({ErrorText.Clip(context.Request.Method)} {ErrorText.Clip(context.Request.Path.Value)})"));
        return app;
    }
}
