using LlmProxy.Configuration;
using LlmProxy.Hosting;
using Yarp.ReverseProxy.LoadBalancing;
using Yarp.ReverseProxy.Model;

namespace LlmProxy.Routing;

/// <summary>Picks one of a model's available targets at random, in proportion to the targets' weights.</summary>
internal sealed class WeightedLoadBalancingPolicy : ILoadBalancingPolicy
{
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

        var targets = context.Features.Get<LlmRequestFeature>()?.Snapshot.Targets;
        if (targets is null)
        {
            return availableDestinations[Random.Shared.Next(count)];
        }

        var total = 0L;
        for (var i = 0; i < count; i++)
        {
            total += WeightOf(targets, availableDestinations[i]);
        }

        var pick = Random.Shared.NextInt64(total);
        for (var i = 0; i < count; i++)
        {
            pick -= WeightOf(targets, availableDestinations[i]);
            if (pick < 0)
            {
                return availableDestinations[i];
            }
        }

        return availableDestinations[count - 1];
    }

    // A destination unknown to the request's snapshot (mid-reload) counts as weight 1.
    private static int WeightOf(IReadOnlyDictionary<string, ModelTarget> targets, DestinationState destination)
        => targets.TryGetValue(destination.DestinationId, out var target) ? target.Weight : 1;
}
