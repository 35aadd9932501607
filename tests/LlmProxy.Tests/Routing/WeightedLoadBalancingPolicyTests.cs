using LlmProxy.Routing;

namespace LlmProxy.Tests.Routing;

public sealed class WeightedLoadBalancingPolicyTests
{
    [Fact]
    public void PickDestination_ThreeToOne_SplitsByWeightWithinThreePoints()
    {
        var (context, destinations) = BalancingFixture.Setup("weighted", (3, 0), (1, 0));
        var policy = new WeightedLoadBalancingPolicy(new Random(20261));

        var counts = BalancingFixture.Count(() => policy.PickDestination(context, null!, destinations), destinations, 10_000);

        // Expected 75 % of 10,000 (sd 0.43 points): ±3 points is seven deviations.
        Assert.InRange(counts[0], 7_200, 7_800);
        Assert.Equal(10_000, counts.Sum());
    }

    [Fact]
    public void PickDestination_SharedRandom_SplitsByWeightWithinThreePoints()
    {
        var (context, destinations) = BalancingFixture.Setup("weighted", (1, 0), (3, 0));
        var policy = new WeightedLoadBalancingPolicy();

        var counts = BalancingFixture.Count(() => policy.PickDestination(context, null!, destinations), destinations, 10_000);

        // Unseeded: the same bound, seven deviations away, fails about once in 10^11 runs.
        Assert.InRange(counts[1], 7_200, 7_800);
    }

    [Fact]
    public void PickDestination_OneOrNoneAvailable_ShortCircuits()
    {
        var (context, destinations) = BalancingFixture.Setup("weighted", (5, 0));
        var policy = new WeightedLoadBalancingPolicy();

        Assert.Same(destinations[0], policy.PickDestination(context, null!, destinations));
        Assert.Null(policy.PickDestination(context, null!, []));
    }

    [Fact]
    public void PickDestination_NoRequestFeature_PicksEachAtRandom()
    {
        var (_, destinations) = BalancingFixture.Setup("weighted", (9, 0), (1, 0));
        var policy = new WeightedLoadBalancingPolicy(new Random(7));

        var counts = BalancingFixture.Count(() => policy.PickDestination(new Microsoft.AspNetCore.Http.DefaultHttpContext(), null!, destinations), destinations, 10_000);

        // Without the snapshot the weights are unknown: one each, 50 % ± 3 points.
        Assert.InRange(counts[0], 4_700, 5_300);
    }
}
