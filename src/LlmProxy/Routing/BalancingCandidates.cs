using LlmProxy.Configuration;
using LlmProxy.Hosting;
using Yarp.ReverseProxy.Model;

namespace LlmProxy.Routing;

/// <summary>
/// What every balancing policy chooses from: the available destinations (those the attempt loop passed on: not failed in
/// this request, not cooling down) of the best <see cref="ModelTarget.Priority"/> among them, each with its weight.
/// Allocation-free: the weights go into a span the policy provides (on its stack).
/// </summary>
internal static class BalancingCandidates
{
    /// <summary>Most destinations whose weights a policy keeps on the stack (a larger cluster, unheard of, allocates).</summary>
    public const int StackLimit = 64;

    /// <summary>
    /// Writes each destination's weight into <paramref name="weights"/>, 0 for a destination of a worse tier than the
    /// best one available, and returns how many candidates there are. A destination unknown to the request's snapshot
    /// (mid-reload) counts as weight 1, tier 0.
    /// </summary>
    public static int Fill(HttpContext context, IReadOnlyList<DestinationState> available, Span<int> weights)
    {
        var feature = context.Features.Get<LlmRequestFeature>();
        var targets = feature?.Snapshot.Targets;
        var count = available.Count;
        if (targets is null)
        {
            weights[..count].Fill(1);
            return count;
        }

        var tiered = feature!.Model is { Tiered: true };
        var best = int.MaxValue;
        var candidates = 0;
        for (var i = 0; i < count; i++)
        {
            var (weight, priority) = targets.TryGetValue(available[i].DestinationId, out var target) ? (target.Weight, target.Priority) : (1, 0);
            if (!tiered || priority == best)
            {
                weights[i] = weight;
                candidates++;
            }
            else if (priority < best)
            {
                // Everything before belongs to a worse tier.
                weights[..i].Clear();
                best = priority;
                weights[i] = weight;
                candidates = 1;
            }
            else
            {
                weights[i] = 0;
            }
        }

        return candidates;
    }

    /// <summary>The index of the only candidate (a weight above 0), or -1.</summary>
    public static int Single(ReadOnlySpan<int> weights)
    {
        for (var i = 0; i < weights.Length; i++)
        {
            if (weights[i] > 0)
            {
                return i;
            }
        }

        return -1;
    }

    /// <summary>A candidate drawn at random in proportion to its weight; -1 when every weight is 0.</summary>
    public static int Draw(ReadOnlySpan<int> weights, Random random)
    {
        var total = 0L;
        foreach (var weight in weights)
        {
            total += weight;
        }

        if (total == 0)
        {
            return -1;
        }

        var pick = random.NextInt64(total);
        for (var i = 0; i < weights.Length; i++)
        {
            pick -= weights[i];
            if (pick < 0)
            {
                return i;
            }
        }

        return Single(weights);
    }
}
