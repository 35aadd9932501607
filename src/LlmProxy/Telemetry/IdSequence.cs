namespace LlmProxy.Telemetry;

/// <summary>
/// Ids unique across replicas and restarts without coordination: a kind prefix, a random per-process part and a
/// counter (<c>req_3fa2c1d09b7e000000000000002a</c>). Ordered within a process and cheaper than a GUID.
/// </summary>
internal sealed class IdSequence(string kind)
{
    private static readonly string ProcessPart = Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(6));

    private readonly string _prefix = kind + ProcessPart;
    private long _counter;

    /// <summary>The next id.</summary>
    public string Next()
        => string.Create(_prefix.Length + 16, (_prefix, Interlocked.Increment(ref _counter)), static (span, state) =>
        {
            state._prefix.AsSpan().CopyTo(span);
            state.Item2.TryFormat(span[state._prefix.Length..], out _, "x16", System.Globalization.CultureInfo.InvariantCulture);
        });
}
