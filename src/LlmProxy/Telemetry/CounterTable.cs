using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Runtime.CompilerServices;

namespace LlmProxy.Telemetry;

/// <summary>
/// Monotonic sums by label set, updated with one dictionary lookup and an interlocked add, and read as
/// observable-counter measurements when the exporter collects.
/// </summary>
internal sealed class CounterTable<TKey>
    where TKey : notnull
{
    private readonly ConcurrentDictionary<TKey, StrongBox<long>> _sums = new();

    /// <summary>Adds to the sum of a label set.</summary>
    public void Add(TKey key, long value)
    {
        var box = _sums.GetOrAdd(key, static _ => new StrongBox<long>());
        Interlocked.Add(ref box.Value, value);
    }

    /// <summary>The current sums.</summary>
    public IEnumerable<Measurement<long>> Observe(Func<TKey, KeyValuePair<string, object?>[]> tags)
    {
        foreach (var (key, box) in _sums)
        {
            yield return new Measurement<long>(Volatile.Read(ref box.Value), tags(key));
        }
    }
}
