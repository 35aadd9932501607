using LlmProxy.Routing;
using Microsoft.Extensions.Time.Testing;
using Yarp.ReverseProxy.LoadBalancing;
using Yarp.ReverseProxy.Model;

namespace LlmProxy.Tests.Routing;

/// <summary>Priority tiers hold under every strategy: a worse tier only when no destination of a better one is available.</summary>
public sealed class PriorityTierTests
{
    public static TheoryData<string> Strategies => ["weighted", "round_robin", "least_in_flight", "latency"];

    private static ILoadBalancingPolicy Policy(string strategy) => strategy switch
    {
        "weighted" => new WeightedLoadBalancingPolicy(new Random(1)),
        "round_robin" => new RoundRobinLoadBalancingPolicy(),
        "least_in_flight" => new LeastInFlightLoadBalancingPolicy(new Random(2)),
        _ => new LatencyLoadBalancingPolicy(new TargetStats(new FakeTimeProvider()), new Random(3)),
    };

    [Theory]
    [MemberData(nameof(Strategies))]
    public void PickDestination_TierZeroAvailable_NeverPicksTierOne(string strategy)
    {
        // Tier 1 is heavier, idler and listed first: everything that could draw traffic to it, except its tier.
        var (context, destinations) = BalancingFixture.Setup(strategy, (1_000, 1), (1, 0), (1_000, 1), (1, 0));
        destinations[1].ConcurrentRequestCount = 10;
        destinations[3].ConcurrentRequestCount = 10;
        var policy = Policy(strategy);

        var counts = BalancingFixture.Count(() => policy.PickDestination(context, null!, destinations), destinations, 10_000);

        Assert.Equal(0, counts[0] + counts[2]);
        Assert.True(counts[1] > 0 && counts[3] > 0, $"tier 0 split {counts[1]}/{counts[3]}");
    }

    [Theory]
    [MemberData(nameof(Strategies))]
    public void PickDestination_TierZeroExcluded_UsesTierOneAndNeverTierTwo(string strategy)
    {
        var (context, destinations) = BalancingFixture.Setup(strategy, (1, 0), (1, 2), (1, 1), (1, 1));
        var policy = Policy(strategy);
        // The attempt loop left out the tier-0 target (it failed in this request, or cools down).
        DestinationState[] available = [destinations[1], destinations[2], destinations[3]];

        var counts = BalancingFixture.Count(() => policy.PickDestination(context, null!, available), destinations, 1_000);

        Assert.Equal(0, counts[0]);
        Assert.Equal(0, counts[1]);
        Assert.Equal(1_000, counts[2] + counts[3]);
        Assert.True(counts[2] > 0 && counts[3] > 0, $"tier 1 split {counts[2]}/{counts[3]}");
    }

    [Theory]
    [MemberData(nameof(Strategies))]
    public void PickDestination_BetterTierListedLast_PicksTheBetterTier(string strategy)
    {
        var (context, destinations) = BalancingFixture.Setup(strategy, (1, 3), (1, 3), (1, 0));
        var policy = Policy(strategy);

        for (var i = 0; i < 100; i++)
        {
            Assert.Same(destinations[2], policy.PickDestination(context, null!, destinations));
        }
    }
}
