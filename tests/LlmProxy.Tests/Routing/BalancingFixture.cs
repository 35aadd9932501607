using LlmProxy.Auth;
using LlmProxy.Hosting;
using LlmProxy.Tests.Configuration;
using Microsoft.AspNetCore.Http;
using Yarp.ReverseProxy.Model;

namespace LlmProxy.Tests.Routing;

/// <summary>A request routed to model <c>m</c>, whose targets have the given weights and priorities, and their YARP destinations.</summary>
internal static class BalancingFixture
{
    public static (HttpContext Context, DestinationState[] Destinations) Setup(string strategy, params (int Weight, int Priority)[] targets)
    {
        var list = string.Join(",", targets.Select((t, i) => $$"""{ "provider": "local", "model": "t{{i}}", "weight": {{t.Weight}}, "priority": {{t.Priority}} }"""));
        var snapshot = SnapshotBuilderTests.Builder().Build(SnapshotBuilderTests.Parse($$"""
            {
              "providers": { "local": { "type": "openai-compatible", "base_url": "http://localhost:8000/v1" } },
              "models": { "m": { "strategy": "{{strategy}}", "targets": [ {{list}} ] } },
              "auth": { "mode": "none" }
            }
            """), 1).Snapshot!;
        var context = new DefaultHttpContext();
        context.Features.Set(new LlmRequestFeature(snapshot, "r", 1) { Key = VirtualKey.Anonymous, Model = snapshot.Models["m"] });
        var destinations = snapshot.Models["m"].Targets.Select(t => new DestinationState(t.DestinationId)).ToArray();
        return (context, destinations);
    }

    /// <summary>How often each destination was picked in <paramref name="picks"/> draws, by index.</summary>
    public static int[] Count(Func<DestinationState?> pick, DestinationState[] destinations, int picks)
    {
        var counts = new int[destinations.Length];
        for (var i = 0; i < picks; i++)
        {
            var picked = pick() ?? throw new InvalidOperationException("no destination picked");
            counts[Array.IndexOf(destinations, picked)]++;
        }

        return counts;
    }
}
