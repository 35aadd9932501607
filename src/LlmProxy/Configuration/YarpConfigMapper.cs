using System.Net;
using Yarp.ReverseProxy.Configuration;
using Yarp.ReverseProxy.Forwarder;

namespace LlmProxy.Configuration;

/// <summary>
/// Maps a snapshot to YARP: one route per OpenAI endpoint (the cluster is chosen per request from the body's
/// <c>model</c>), one cluster per model with one destination per target, balanced by the model's strategy.
/// </summary>
internal static class YarpConfigMapper
{
    /// <summary>Name of the weighted load-balancing policy (<c>weighted</c>).</summary>
    public const string WeightedPolicy = "LlmProxyWeighted";

    /// <summary>Name of the round-robin load-balancing policy (<c>round_robin</c>).</summary>
    public const string RoundRobinPolicy = "LlmProxyRoundRobin";

    /// <summary>Name of the least-in-flight load-balancing policy (<c>least_in_flight</c>).</summary>
    public const string LeastInFlightPolicy = "LlmProxyLeastInFlight";

    /// <summary>Name of the latency-aware (power of two choices) load-balancing policy (<c>latency</c>).</summary>
    public const string LatencyPolicy = "LlmProxyLatency";

    /// <summary>The OpenAI endpoints the gateway forwards (POST, routed by the body's model).</summary>
    public static readonly string[] ForwardedPaths = ["/v1/chat/completions", "/v1/completions", "/v1/embeddings", "/v1/responses"];

    /// <summary>
    /// The cluster the routes name. It has no destinations: the routing stage moves every request to its
    /// model's cluster, so a request that skipped routing cannot be forwarded anywhere.
    /// </summary>
    public const string UnroutedClusterId = "llmproxy-unrouted";

    private static readonly string[] Post = ["POST"];

    /// <summary>The routes (they do not depend on the snapshot).</summary>
    public static IReadOnlyList<RouteConfig> Routes { get; } = BuildRoutes();

    /// <summary>One cluster per model.</summary>
    public static IReadOnlyList<ClusterConfig> MapClusters(GatewaySnapshot snapshot)
    {
        var clusters = new List<ClusterConfig>(snapshot.ModelList.Length + 1)
        {
            new() { ClusterId = UnroutedClusterId, Destinations = new Dictionary<string, DestinationConfig>() },
        };
        foreach (var model in snapshot.ModelList)
        {
            var destinations = new Dictionary<string, DestinationConfig>(StringComparer.Ordinal);
            foreach (var target in model.Targets)
            {
                destinations[target.DestinationId] = new DestinationConfig { Address = target.Provider.Address };
            }

            clusters.Add(new ClusterConfig
            {
                ClusterId = model.ClusterId,
                LoadBalancingPolicy = PolicyOf(model.Strategy),
                Destinations = destinations,
                HttpRequest = new ForwarderRequestConfig
                {
                    ActivityTimeout = model.Timeout,
                    Version = HttpVersion.Version20,
                    VersionPolicy = HttpVersionPolicy.RequestVersionOrLower,
                },
                HttpClient = new HttpClientConfig { EnableMultipleHttp2Connections = true },
                Metadata = new Dictionary<string, string>
                {
                    [Providers.ProviderHttpClientFactory.ConnectTimeoutKey] = model.ConnectTimeout.TotalSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture),
                },
            });
        }

        return clusters;
    }

    /// <summary>The YARP load-balancing policy that implements <paramref name="strategy"/>.</summary>
    public static string PolicyOf(BalancingStrategy strategy) => strategy switch
    {
        BalancingStrategy.Weighted => WeightedPolicy,
        BalancingStrategy.RoundRobin => RoundRobinPolicy,
        BalancingStrategy.LeastInFlight => LeastInFlightPolicy,
        BalancingStrategy.Latency => LatencyPolicy,
        _ => throw new ArgumentOutOfRangeException(nameof(strategy), strategy, null),
    };

    private static RouteConfig[] BuildRoutes()
    {
        var routes = new RouteConfig[ForwardedPaths.Length];
        for (var i = 0; i < ForwardedPaths.Length; i++)
        {
            routes[i] = new RouteConfig
            {
                RouteId = ForwardedPaths[i].TrimStart('/').Replace('/', '-'),
                ClusterId = UnroutedClusterId,
                Match = new RouteMatch { Path = ForwardedPaths[i], Methods = Post },
            };
        }

        return routes;
    }
}
