using LlmProxy.Routing;
using Yarp.ReverseProxy.Model;

namespace LlmProxy.Tests.Routing;

public sealed class RoundRobinLoadBalancingPolicyTests
{
    [Fact]
    public void PickDestination_ThreeTargets_CyclesInOrderExactly()
    {
        var (context, destinations) = BalancingFixture.Setup("round_robin", (1, 0), (5, 0), (1, 0));
        var policy = new RoundRobinLoadBalancingPolicy();
        var cluster = new ClusterState("llmproxy-unrouted");

        var picks = Enumerable.Range(0, 9).Select(_ => Array.IndexOf(destinations, policy.PickDestination(context, cluster, destinations))).ToArray();

        Assert.Equal([0, 1, 2, 0, 1, 2, 0, 1, 2], picks);
    }

    [Fact]
    public void PickDestination_TwoModelsOneRouteCluster_EachModelHasItsOwnCycle()
    {
        // YARP hands every policy the route's cluster, the same for all models: the turn is the model's.
        var (first, firstDestinations) = BalancingFixture.Setup("round_robin", (1, 0), (1, 0));
        var (second, secondDestinations) = BalancingFixture.Setup("round_robin", (1, 0), (1, 0));
        var policy = new RoundRobinLoadBalancingPolicy();
        var cluster = new ClusterState("llmproxy-unrouted");

        var a1 = policy.PickDestination(first, cluster, firstDestinations);
        var b1 = policy.PickDestination(second, cluster, secondDestinations);
        var a2 = policy.PickDestination(first, cluster, firstDestinations);
        var b2 = policy.PickDestination(second, cluster, secondDestinations);

        // Compared by id: a DestinationState is a list of itself, which an equality assertion would walk for ever.
        Assert.Equal([firstDestinations[0].DestinationId, firstDestinations[1].DestinationId], [a1!.DestinationId, a2!.DestinationId]);
        Assert.Equal([secondDestinations[0].DestinationId, secondDestinations[1].DestinationId], [b1!.DestinationId, b2!.DestinationId]);
    }

    [Fact]
    public void PickDestination_TargetLeftOut_CyclesOverTheOthers()
    {
        var (context, destinations) = BalancingFixture.Setup("round_robin", (1, 0), (1, 0), (1, 0));
        var policy = new RoundRobinLoadBalancingPolicy();
        DestinationState[] available = [destinations[0], destinations[2]];

        var picks = Enumerable.Range(0, 4).Select(_ => Array.IndexOf(destinations, policy.PickDestination(context, null!, available))).ToArray();

        Assert.Equal([0, 2, 0, 2], picks);
    }
}
