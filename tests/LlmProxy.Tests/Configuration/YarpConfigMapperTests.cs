using System.Net;
using LlmProxy.Configuration;

namespace LlmProxy.Tests.Configuration;

public sealed class YarpConfigMapperTests
{
    [Fact]
    public void MapClusters_TwoModels_OneClusterPerModelWithWeightedTargetsAndHttp2()
    {
        var snapshot = SnapshotBuilderTests.Builder().Build(SnapshotBuilderTests.Parse("""
            {
              "providers": {
                "one": { "type": "openai-compatible", "base_url": "http://one:8000/v1", "connect_timeout_seconds": 4 },
                "two": { "type": "azure-openai", "base_url": "https://two.openai.azure.com/", "api_key": "env:PATH", "api_version": "v1" }
              },
              "models": {
                "a": { "targets": [ { "provider": "one" }, { "provider": "two", "model": "dep" } ], "timeout_seconds": 30, "connect_timeout_seconds": 2.5 },
                "b": { "targets": [ { "provider": "one" } ] }
              },
              "auth": { "mode": "none" }
            }
            """), 1).Snapshot!;

        var clusters = YarpConfigMapper.MapClusters(snapshot).ToDictionary(c => c.ClusterId);

        Assert.Equal([YarpConfigMapper.UnroutedClusterId, "model:a", "model:b"], clusters.Keys.Order());
        Assert.Empty(clusters[YarpConfigMapper.UnroutedClusterId].Destinations!);
        var a = clusters["model:a"];
        Assert.Equal(YarpConfigMapper.WeightedPolicy, a.LoadBalancingPolicy);
        Assert.Equal(["http://one:8000/v1", "https://two.openai.azure.com"], a.Destinations!.Values.Select(d => d.Address));
        Assert.Equal(TimeSpan.FromSeconds(30), a.HttpRequest!.ActivityTimeout);
        Assert.Equal(HttpVersion.Version20, a.HttpRequest.Version);
        Assert.Equal(HttpVersionPolicy.RequestVersionOrLower, a.HttpRequest.VersionPolicy);
        Assert.True(a.HttpClient!.EnableMultipleHttp2Connections);
        // The connect timeout reaches the cluster's handler (ProviderHttpClientFactory) as metadata: the model's, else its providers' shortest.
        Assert.Equal("2.5", a.Metadata![LlmProxy.Providers.ProviderHttpClientFactory.ConnectTimeoutKey]);
        Assert.Equal("4", clusters["model:b"].Metadata![LlmProxy.Providers.ProviderHttpClientFactory.ConnectTimeoutKey]);
    }

    [Theory]
    [InlineData(null, YarpConfigMapper.WeightedPolicy)]
    [InlineData("weighted", YarpConfigMapper.WeightedPolicy)]
    [InlineData("round_robin", YarpConfigMapper.RoundRobinPolicy)]
    [InlineData("least_in_flight", YarpConfigMapper.LeastInFlightPolicy)]
    [InlineData("latency", YarpConfigMapper.LatencyPolicy)]
    public void MapClusters_ModelStrategy_ClusterUsesItsPolicy(string? strategy, string policy)
    {
        var setting = strategy is null ? "" : $$""", "strategy": "{{strategy}}" """;
        var snapshot = SnapshotBuilderTests.Builder().Build(SnapshotBuilderTests.Parse($$"""
            {
              "providers": { "one": { "type": "openai-compatible", "base_url": "http://one:8000/v1" } },
              "models": { "a": { "targets": [ { "provider": "one" }, { "provider": "one", "model": "x", "priority": 1 } ]{{setting}} } },
              "auth": { "mode": "none" }
            }
            """), 1).Snapshot!;

        var cluster = YarpConfigMapper.MapClusters(snapshot).Single(c => c.ClusterId == "model:a");

        Assert.Equal(policy, cluster.LoadBalancingPolicy);
    }

    [Fact]
    public void PolicyOf_EveryStrategy_NamesARegisteredPolicy()
    {
        var registered = new Yarp.ReverseProxy.LoadBalancing.ILoadBalancingPolicy[]
        {
            new LlmProxy.Routing.WeightedLoadBalancingPolicy(),
            new LlmProxy.Routing.RoundRobinLoadBalancingPolicy(),
            new LlmProxy.Routing.LeastInFlightLoadBalancingPolicy(),
            new LlmProxy.Routing.LatencyLoadBalancingPolicy(new LlmProxy.Routing.TargetStats(TimeProvider.System)),
        }.Select(p => p.Name).ToHashSet();

        Assert.All(Enum.GetValues<BalancingStrategy>(), s => Assert.Contains(YarpConfigMapper.PolicyOf(s), registered));
        Assert.Equal(Enum.GetValues<BalancingStrategy>().Length, registered.Count);
    }

    [Fact]
    public void Routes_ForwardedEndpoints_PostOnlyToTheUnroutedCluster()
    {
        var routes = YarpConfigMapper.Routes;

        Assert.Equal(["/v1/chat/completions", "/v1/completions", "/v1/embeddings", "/v1/responses"], routes.Select(r => r.Match.Path));
        Assert.All(routes, r => Assert.Equal(["POST"], r.Match.Methods!));
        Assert.All(routes, r => Assert.Equal(YarpConfigMapper.UnroutedClusterId, r.ClusterId));
        Assert.Equal(routes.Count, routes.Select(r => r.RouteId).Distinct().Count());
    }
}
