using LlmProxy.Hosting;

namespace LlmProxy.Usage;

/// <summary>
/// The response model names read lately, so that reading a name again returns the string already made instead of a new
/// one per response: a provider names the same few models over and over. One instance per host (a DI singleton, handed
/// to each <see cref="LlmRequestFeature"/>); it holds at most <see cref="MaxEntries"/> names, a new name replacing
/// the oldest. Lock-free: concurrent readers may store a name twice or overwrite each other's newest entry, never make
/// a name read wrong.
/// </summary>
internal sealed class ModelNameTable
{
    /// <summary>Most names kept; a new name replaces the oldest (round robin).</summary>
    public const int MaxEntries = 16;

    private readonly Entry?[] _entries = new Entry?[MaxEntries];
    private int _written;

    /// <summary>Names kept now.</summary>
    internal int Count => _entries.Count(static e => e is not null);

    /// <summary>The name the UTF-8 bytes spell: a kept string when the same bytes were read lately, else a new one (kept).</summary>
    public string Name(ReadOnlySpan<byte> utf8)
    {
        for (var i = 0; i < _entries.Length; i++)
        {
            if (Volatile.Read(ref _entries[i]) is { } entry && utf8.SequenceEqual(entry.Utf8))
            {
                return entry.Name;
            }
        }

        var name = System.Text.Encoding.UTF8.GetString(utf8);
        var slot = (int)((uint)Interlocked.Increment(ref _written) % MaxEntries);
        Volatile.Write(ref _entries[slot], new Entry(name, utf8.ToArray()));
        return name;
    }

    private sealed record Entry(string Name, byte[] Utf8);
}
