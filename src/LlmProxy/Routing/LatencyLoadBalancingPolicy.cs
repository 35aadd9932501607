using LlmProxy.Configuration;
using Yarp.ReverseProxy.LoadBalancing;
using Yarp.ReverseProxy.Model;

namespace LlmProxy.Routing;

/// <summary>
/// <c>latency</c>: power of two choices. Two distinct targets of the best tier available are drawn by weight and the one
/// with the lower <see cref="TargetStats.Score"/> goes (EWMA time to first token, raised by its error rate and its
/// requests in flight). A target not measured lately scores as idle-and-unknown, so it is measured again.
/// </summary>
internal sealed class LatencyLoadBalancingPolicy : ILoadBalancingPolicy
{
    private readonly TargetStats _stats;
    private readonly Random _random;

    /// <summary>Creates the policy (shared randomness).</summary>
    public LatencyLoadBalancingPolicy(TargetStats stats)
        : this(stats, Random.Shared)
    {
    }

    /// <summary>Creates the policy with its own source of randomness (a seeded one, in tests).</summary>
    internal LatencyLoadBalancingPolicy(TargetStats stats, Random random)
    {
        _stats = stats;
        _random = random;
    }

    /// <inheritdoc/>
    public string Name => YarpConfigMapper.LatencyPolicy;

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
        if (candidates <= 1)
        {
            var only = BalancingCandidates.Single(weights);
            return only < 0 ? null : availableDestinations[only];
        }

        var first = BalancingCandidates.Draw(weights, _random);
        weights[first] = 0;
        var second = BalancingCandidates.Draw(weights, _random);
        var a = availableDestinations[first];
        var b = availableDestinations[second];
        return _stats.Score(b.DestinationId, b.ConcurrentRequestCount) < _stats.Score(a.DestinationId, a.ConcurrentRequestCount) ? b : a;
    }
}
