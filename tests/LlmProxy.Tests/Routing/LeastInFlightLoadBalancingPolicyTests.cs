using LlmProxy.Routing;

namespace LlmProxy.Tests.Routing;

public sealed class LeastInFlightLoadBalancingPolicyTests
{
    [Fact]
    public void PickDestination_TargetsBusyUnequally_AlwaysPicksTheIdlest()
    {
        var (context, destinations) = BalancingFixture.Setup("least_in_flight", (10, 0), (1, 0), (10, 0));
        destinations[0].ConcurrentRequestCount = 3;
        destinations[1].ConcurrentRequestCount = 1;
        destinations[2].ConcurrentRequestCount = 2;
        var policy = new LeastInFlightLoadBalancingPolicy(new Random(3));

        var counts = BalancingFixture.Count(() => policy.PickDestination(context, null!, destinations), destinations, 1_000);

        Assert.Equal([0, 1_000, 0], counts);
    }

    [Fact]
    public void PickDestination_TieInFlight_SplitsByWeightWithinThreePoints()
    {
        var (context, destinations) = BalancingFixture.Setup("least_in_flight", (3, 0), (1, 0), (1, 0));
        destinations[0].ConcurrentRequestCount = 2;
        destinations[1].ConcurrentRequestCount = 2;
        destinations[2].ConcurrentRequestCount = 5;
        var policy = new LeastInFlightLoadBalancingPolicy(new Random(11));

        var counts = BalancingFixture.Count(() => policy.PickDestination(context, null!, destinations), destinations, 10_000);

        // The two at 2 share by weight, 3:1 (75 % ± 3 points, seven deviations); the busiest gets nothing.
        Assert.InRange(counts[0], 7_200, 7_800);
        Assert.Equal(0, counts[2]);
    }

    [Fact]
    public void PickDestination_IdlerTargetInWorseTier_StaysInTheBetterTier()
    {
        var (context, destinations) = BalancingFixture.Setup("least_in_flight", (1, 0), (1, 1));
        destinations[0].ConcurrentRequestCount = 50;
        var policy = new LeastInFlightLoadBalancingPolicy();

        Assert.Same(destinations[0], policy.PickDestination(context, null!, destinations));
    }
}
