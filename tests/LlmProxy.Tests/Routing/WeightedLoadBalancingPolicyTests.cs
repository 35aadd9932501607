using LlmProxy.Auth;
using LlmProxy.Hosting;
using LlmProxy.Routing;
using LlmProxy.Tests.Configuration;
using Microsoft.AspNetCore.Http;
using Yarp.ReverseProxy.Model;

namespace LlmProxy.Tests.Routing;

public sealed class WeightedLoadBalancingPolicyTests
{
    private static (HttpContext Context, DestinationState[] Destinations) Setup(params int[] weights)
    {
        var targets = string.Join(",", weights.Select((w, i) => $$"""{ "provider": "local", "model": "t{{i}}", "weight": {{w}} }"""));
        var snapshot = SnapshotBuilderTests.Builder().Build(SnapshotBuilderTests.Parse($$"""
            {
              "providers": { "local": { "type": "openai-compatible", "base_url": "http://localhost:8000/v1" } },
              "models": { "m": { "targets": [ {{targets}} ] } },
              "auth": { "mode": "none" }
            }
            """), 1).Snapshot!;
        var context = new DefaultHttpContext();
        context.Features.Set(new LlmRequestFeature(snapshot, "r", 1) { Key = VirtualKey.Anonymous });
        var destinations = snapshot.Models["m"].Targets
            .Select(t => new DestinationState(t.DestinationId))
            .ToArray();
        return (context, destinations);
    }

    [Fact]
    public void PickDestination_ThreeToOne_SplitsByWeight()
    {
        var (context, destinations) = Setup(3, 1);
        var policy = new WeightedLoadBalancingPolicy();
        var counts = new Dictionary<string, int>();

        for (var i = 0; i < 8000; i++)
        {
            var picked = policy.PickDestination(context, null!, destinations)!;
            counts[picked.DestinationId] = counts.GetValueOrDefault(picked.DestinationId) + 1;
        }

        // Expected 6000 of 8000 (sd ~39): the bounds are more than 5 deviations away.
        Assert.InRange(counts[destinations[0].DestinationId], 5800, 6200);
        Assert.Equal(8000, counts.Values.Sum());
    }

    [Fact]
    public void PickDestination_OneOrNoneAvailable_ShortCircuits()
    {
        var (context, destinations) = Setup(5);
        var policy = new WeightedLoadBalancingPolicy();

        Assert.Same(destinations[0], policy.PickDestination(context, null!, destinations));
        Assert.Null(policy.PickDestination(context, null!, []));
    }
}
