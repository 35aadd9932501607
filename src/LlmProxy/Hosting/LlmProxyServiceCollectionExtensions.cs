using LlmProxy.Configuration;
using LlmProxy.Providers;
using LlmProxy.Providers.Anthropic;
using LlmProxy.Providers.AzureOpenAI;
using LlmProxy.Providers.OpenAI;
using LlmProxy.Providers.OpenAICompatible;
using LlmProxy.Providers.Simulated;
using LlmProxy.RateLimiting;
using LlmProxy.Routing;
using LlmProxy.StructuredOutput;
using LlmProxy.Telemetry;
using LlmProxy.Usage;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Yarp.ReverseProxy.Configuration;
using Yarp.ReverseProxy.LoadBalancing;

namespace LlmProxy.Hosting;

/// <summary>Registers the gateway's services.</summary>
public static class LlmProxyServiceCollectionExtensions
{
    /// <summary>Where the gateway listens when nothing else is configured.</summary>
    public const string DefaultUrl = "http://localhost:8080";

    /// <summary>
    /// The match time limit of every regex made without one of its own (the <c>REGEX_DEFAULT_MATCH_TIMEOUT</c> AppContext
    /// setting) when the host did not set it: 250 ms, the limit <see cref="SchemaRegexes"/> gives the schemas' own regexes.
    /// </summary>
    public static readonly TimeSpan DefaultRegexMatchTimeout = SchemaRegexes.Limit;

    private const string RegexTimeoutSetting = "REGEX_DEFAULT_MATCH_TIMEOUT";

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
        // Clients send the regexes of their schemas (pattern, patternProperties), and none may run for long on the
        // gateway's threads. SchemaRegexes gives each of those an explicit limit, but JsonSchema.Net makes regexes of its
        // own without one (its regex-based formats, the regex it builds for a pattern before SchemaRegexes replaces it),
        // and only the process-wide default reaches those. It is read when the first Regex is made, so it is set here,
        // first, before the gateway's services make any; a host that chose its own value keeps it.
        if (AppContext.GetData(RegexTimeoutSetting) is null)
        {
            AppContext.SetData(RegexTimeoutSetting, DefaultRegexMatchTimeout);
        }

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
        services.TryAddEnumerable(ServiceDescriptor.Singleton<ILoadBalancingPolicy, RoundRobinLoadBalancingPolicy>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<ILoadBalancingPolicy, LeastInFlightLoadBalancingPolicy>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<ILoadBalancingPolicy, LatencyLoadBalancingPolicy>());

        services.TryAddSingleton<LlmProxyMetrics>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IUsageSink, LlmProxyMetrics>(sp => sp.GetRequiredService<LlmProxyMetrics>()));
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IUsageSink, RequestLogSink>());
        services.TryAddSingleton<SummaryStore>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IUsageSink, SummaryStore>(sp => sp.GetRequiredService<SummaryStore>()));
        builder.AddLlmProxyTelemetry();

        services.TryAddSingleton<RateLimitClock>();
        services.TryAddSingleton<RedisConnection>();
        services.TryAddSingleton<RateLimiter>();

        // Caches are bounded singletons of the host, never statics (see each type for its bound).
        services.TryAddSingleton<TokenEstimator>();
        services.TryAddSingleton<SchemaCache>();
        services.TryAddSingleton<Failover.TargetHealth>();
        services.AddHostedService<Failover.TargetHealthSharing>();
        services.TryAddSingleton<TargetStats>();
        services.TryAddSingleton<ModelNameTable>();

        services.AddHealthChecks()
            .AddCheck<ConfigHealthCheck>("config", tags: ["ready"])
            .AddCheck<RedisHealthCheck>("redis", tags: ["ready"])
            .AddCheck<Failover.TargetHealthCheck>("targets", tags: ["ready"]);
        services.AddOpenApi(options => options.AddDocumentTransformer<ForwardedEndpointsDocument>());
        return builder;
    }

    /// <summary>True when the host was not told where to listen (ASPNETCORE_URLS, --urls, HTTP_PORTS, Kestrel endpoints).</summary>
    internal static bool NeedsDefaultUrl(IConfiguration configuration)
        => string.IsNullOrEmpty(configuration["urls"]) && string.IsNullOrEmpty(configuration["http_ports"])
            && string.IsNullOrEmpty(configuration["https_ports"]) && !configuration.GetSection("Kestrel:Endpoints").Exists();
}
