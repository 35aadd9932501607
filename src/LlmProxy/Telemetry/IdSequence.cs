namespace LlmProxy.Telemetry;

/// <summary>
/// Ids unique across replicas and restarts without coordination: a kind prefix, a random part drawn when the sequence
/// is made and a counter (<c>req_3fa2c1d09b7e000000000000002a</c>). Ordered within a sequence and cheaper than a GUID.
/// Each owner (a middleware, itself one per pipeline) holds its own sequence; the random part keeps two sequences of
/// the same kind in one process (two hosts) apart.
/// </summary>
internal sealed class IdSequence(string kind)
{
    private readonly string _prefix = kind + Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(6));
    private long _counter;

    /// <summary>The next id.</summary>
    public string Next()
        => string.Create(_prefix.Length + 16, (_prefix, Interlocked.Increment(ref _counter)), static (span, state) =>
        {
            state._prefix.AsSpan().CopyTo(span);
            state.Item2.TryFormat(span[state._prefix.Length..], out _, "x16", System.Globalization.CultureInfo.InvariantCulture);
        });
}
