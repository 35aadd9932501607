using LlmProxy.Configuration;
using Yarp.ReverseProxy.LoadBalancing;
using Yarp.ReverseProxy.Model;

namespace LlmProxy.Routing;

/// <summary>
/// <c>weighted</c>: picks one of the best tier's available targets at random, in proportion to the targets' weights
/// (<see cref="BalancingCandidates"/>).
/// </summary>
internal sealed class WeightedLoadBalancingPolicy : ILoadBalancingPolicy
{
    private readonly Random _random;

    /// <summary>Creates the policy (shared randomness).</summary>
    public WeightedLoadBalancingPolicy()
        : this(Random.Shared)
    {
    }

    /// <summary>Creates the policy with its own source of randomness (a seeded one, in tests).</summary>
    internal WeightedLoadBalancingPolicy(Random random) => _random = random;

    /// <inheritdoc/>
    public string Name => YarpConfigMapper.WeightedPolicy;

    /// <inheritdoc/>
    public DestinationState? PickDestination(HttpContext context, ClusterState cluster, IReadOnlyList<DestinationState> availableDestinations)
    {
        var count = availableDestinations.Count;
        if (count <= 1)
        {
            return count == 0 ? null : availableDestinations[0];
        }

        var weights = count <= BalancingCandidates.StackLimit ? stackalloc int[count] : new int[count];
        BalancingCandidates.Fill(context, availableDestinations, weights);
        var index = BalancingCandidates.Draw(weights, _random);
        return index < 0 ? null : availableDestinations[index];
    }
}
