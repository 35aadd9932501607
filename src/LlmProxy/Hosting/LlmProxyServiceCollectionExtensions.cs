using LlmProxy.Configuration;
using LlmProxy.Providers;
using LlmProxy.Providers.Anthropic;
using LlmProxy.Providers.AzureOpenAI;
using LlmProxy.Providers.OpenAI;
using LlmProxy.Providers.OpenAICompatible;
using LlmProxy.Providers.Simulated;
using LlmProxy.RateLimiting;
using LlmProxy.Routing;
using LlmProxy.Telemetry;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Yarp.ReverseProxy.Configuration;
using Yarp.ReverseProxy.LoadBalancing;

namespace LlmProxy.Hosting;

/// <summary>Registers the gateway's services.</summary>
public static class LlmProxyServiceCollectionExtensions
{
    /// <summary>Where the gateway listens when nothing else is configured.</summary>
    public const string DefaultUrl = "http://localhost:8080";

    private static readonly KeyValuePair<string, string?>[] DefaultLogLevels =
    [
        new("Logging:LogLevel:Default", "Information"),
        new("Logging:LogLevel:Microsoft.AspNetCore", "Warning"),
        new("Logging:LogLevel:Yarp", "Warning"),
    ];

    /// <summary>
    /// Adds LlmProxy: the route config (path from <c>LlmProxy:ConfigPath</c>, <c>LLMPROXY_CONFIG</c> or
    /// <c>config/llmproxy.json</c>), YARP with the config mapped to routes and clusters, the provider adapters,
    /// health checks and the OpenAPI document.
    /// </summary>
    public static WebApplicationBuilder AddLlmProxy(this WebApplicationBuilder builder)
    {
        if (NeedsDefaultUrl(builder.Configuration))
        {
            builder.WebHost.UseUrls(DefaultUrl);
        }

        // The lowest configuration layer: appsettings.json is looked up in the working directory, so a binary started
        // from elsewhere would log ASP.NET Core and YARP at Information (request URLs included). Files, environment
        // variables and the command line still override these.
        builder.Configuration.Sources.Insert(0, new Microsoft.Extensions.Configuration.Memory.MemoryConfigurationSource { InitialData = DefaultLogLevels });
        builder.WebHost.ConfigureKestrel(static options => options.AddServerHeader = false);

        var services = builder.Services;
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<SimulatorServer>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IProviderAdapter, OpenAIAdapter>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IProviderAdapter, AzureOpenAIAdapter>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IProviderAdapter, OpenAICompatibleAdapter>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IProviderAdapter, AnthropicAdapter>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IProviderAdapter, SimulatedAdapter>());
        services.TryAddSingleton<ProviderAdapters>();
        services.TryAddSingleton<SnapshotBuilder>();
        services.TryAddSingleton(sp => new ConfigStore(
            ConfigFile.Resolve(sp.GetRequiredService<IConfiguration>()[ConfigFile.PathSetting]),
            sp.GetRequiredService<SnapshotBuilder>(),
            sp.GetRequiredService<ILogger<ConfigStore>>(),
            sp.GetRequiredService<TimeProvider>()));

        services.AddReverseProxy()
            .AddTransforms(static context =>
            {
                // Providers are third parties: nothing of the client's passes unless the transforms name it (allow-lists in
                // ProviderRequestTransform and ProviderResponseTransform), so no X-Forwarded-* and no copied headers.
                context.UseDefaultForwarders = false;
                context.CopyRequestHeaders = false;
                context.CopyResponseHeaders = false;
                context.CopyResponseTrailers = false;
                context.RequestTransforms.Add(new ProviderRequestTransform());
                context.ResponseTransforms.Add(new ProviderResponseTransform(context.Services.GetRequiredService<TimeProvider>()));
            });
        services.AddSingleton<IProxyConfigProvider, YarpConfigProvider>();
        services.AddSingleton<Yarp.ReverseProxy.Forwarder.IForwarderHttpClientFactory, ProviderHttpClientFactory>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<ILoadBalancingPolicy, WeightedLoadBalancingPolicy>());

        services.TryAddSingleton<LlmProxyMetrics>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IUsageSink, LlmProxyMetrics>(sp => sp.GetRequiredService<LlmProxyMetrics>()));
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IUsageSink, RequestLogSink>());
        services.TryAddSingleton<SummaryStore>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IUsageSink, SummaryStore>(sp => sp.GetRequiredService<SummaryStore>()));
        builder.AddLlmProxyTelemetry();

        services.TryAddSingleton<RateLimitClock>();
        services.TryAddSingleton<RedisConnection>();
        services.TryAddSingleton<RateLimiter>();

        services.AddHealthChecks()
            .AddCheck<ConfigHealthCheck>("config", tags: ["ready"])
            .AddCheck<RedisHealthCheck>("redis", tags: ["ready"]);
        services.AddOpenApi(options => options.AddDocumentTransformer<ForwardedEndpointsDocument>());
        return builder;
    }

    /// <summary>True when the host was not told where to listen (ASPNETCORE_URLS, --urls, HTTP_PORTS, Kestrel endpoints).</summary>
    internal static bool NeedsDefaultUrl(IConfiguration configuration)
        => string.IsNullOrEmpty(configuration["urls"]) && string.IsNullOrEmpty(configuration["http_ports"])
            && string.IsNullOrEmpty(configuration["https_ports"]) && !configuration.GetSection("Kestrel:Endpoints").Exists();
}
