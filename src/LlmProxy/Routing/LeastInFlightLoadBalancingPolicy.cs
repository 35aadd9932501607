using LlmProxy.Configuration;
using Yarp.ReverseProxy.LoadBalancing;
using Yarp.ReverseProxy.Model;

namespace LlmProxy.Routing;

/// <summary>
/// <c>least_in_flight</c>: the best tier's available target with the fewest requests in flight (YARP's own count of the
/// requests its forwarder has open to the destination, streams until their last byte); a tie is drawn by weight.
/// </summary>
internal sealed class LeastInFlightLoadBalancingPolicy : ILoadBalancingPolicy
{
    private readonly Random _random;

    /// <summary>Creates the policy (shared randomness).</summary>
    public LeastInFlightLoadBalancingPolicy()
        : this(Random.Shared)
    {
    }

    /// <summary>Creates the policy with its own source of randomness (a seeded one, in tests).</summary>
    internal LeastInFlightLoadBalancingPolicy(Random random) => _random = random;

    /// <inheritdoc/>
    public string Name => YarpConfigMapper.LeastInFlightPolicy;

    /// <inheritdoc/>
    public DestinationState? PickDestination(HttpContext context, ClusterState cluster, IReadOnlyList<DestinationState> availableDestinations)
    {
        var count = availableDestinations.Count;
        if (count <= 1)
        {
            return count == 0 ? null : availableDestinations[0];
        }

        var weights = count <= BalancingCandidates.StackLimit ? stackalloc int[count] : new int[count];
        var inFlight = count <= BalancingCandidates.StackLimit ? stackalloc int[count] : new int[count];
        BalancingCandidates.Fill(context, availableDestinations, weights);
        var least = int.MaxValue;
        for (var i = 0; i < count; i++)
        {
            // Read once: the counts move while the policy looks at them.
            inFlight[i] = availableDestinations[i].ConcurrentRequestCount;
            if (weights[i] > 0)
            {
                least = Math.Min(least, inFlight[i]);
            }
        }

        for (var i = 0; i < count; i++)
        {
            if (inFlight[i] > least)
            {
                weights[i] = 0;
            }
        }

        var index = BalancingCandidates.Draw(weights, _random);
        return index < 0 ? null : availableDestinations[index];
    }
}
