using System.Runtime.CompilerServices;
using LlmProxy.Configuration;
using LlmProxy.Hosting;
using Yarp.ReverseProxy.LoadBalancing;
using Yarp.ReverseProxy.Model;

namespace LlmProxy.Routing;

/// <summary>
/// <c>round_robin</c>: the best tier's available targets in turn, one counter per model (weights are not repeated turns;
/// weight 0 still takes a target out).
/// </summary>
internal sealed class RoundRobinLoadBalancingPolicy : ILoadBalancingPolicy
{
    // YARP passes the route's cluster, which is the same for every model: the counter belongs to the model (as loaded,
    // so a reload starts it again), and goes with it.
    private readonly ConditionalWeakTable<object, StrongBox<int>> _counters = [];

    /// <inheritdoc/>
    public string Name => YarpConfigMapper.RoundRobinPolicy;

    /// <inheritdoc/>
    public DestinationState? PickDestination(HttpContext context, ClusterState cluster, IReadOnlyList<DestinationState> availableDestinations)
    {
        var count = availableDestinations.Count;
        if (count <= 1)
        {
            return count == 0 ? null : availableDestinations[0];
        }

        var weights = count <= BalancingCandidates.StackLimit ? stackalloc int[count] : new int[count];
        var candidates = BalancingCandidates.Fill(context, availableDestinations, weights);
        if (candidates == 0)
        {
            return null;
        }

        var owner = (object?)context.Features.Get<LlmRequestFeature>()?.Model ?? cluster;
        var counter = _counters.GetValue(owner, static _ => new StrongBox<int>(-1));
        var turn = (int)((uint)Interlocked.Increment(ref counter.Value) % (uint)candidates);
        for (var i = 0; i < count; i++)
        {
            if (weights[i] > 0 && turn-- == 0)
            {
                return availableDestinations[i];
            }
        }

        return null;
    }
}
