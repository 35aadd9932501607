using System.Collections.Concurrent;

namespace LlmProxy.Failover;

/// <summary>
/// Targets kept out of rotation until a time, because their provider asked (<c>Retry-After</c> on a 429 or 503): every
/// request of this replica skips them until then. One instance per host (a DI singleton); at most one entry per target,
/// removed once it has passed.
/// </summary>
public sealed class TargetCooldowns
{
    private readonly ConcurrentDictionary<string, DateTimeOffset> _until = new(StringComparer.Ordinal);
    private int _count;

    /// <summary>True when some target is cooling down (or was until recently): the fast check before any lookup.</summary>
    public bool Any => Volatile.Read(ref _count) > 0;

    /// <summary>Keeps <paramref name="destinationId"/> out until <paramref name="until"/> (a later time already set stands).</summary>
    public void Hold(string destinationId, DateTimeOffset until)
    {
        while (true)
        {
            if (_until.TryGetValue(destinationId, out var current))
            {
                if (current >= until || _until.TryUpdate(destinationId, until, current))
                {
                    return;
                }
            }
            else if (_until.TryAdd(destinationId, until))
            {
                Interlocked.Increment(ref _count);
                return;
            }
        }
    }

    /// <summary>When <paramref name="destinationId"/> is back, or null when it is in rotation at <paramref name="now"/>.</summary>
    public DateTimeOffset? Until(string destinationId, DateTimeOffset now)
    {
        if (!_until.TryGetValue(destinationId, out var until))
        {
            return null;
        }

        if (until > now)
        {
            return until;
        }

        if (_until.TryRemove(new KeyValuePair<string, DateTimeOffset>(destinationId, until)))
        {
            Interlocked.Decrement(ref _count);
        }

        return null;
    }
}
