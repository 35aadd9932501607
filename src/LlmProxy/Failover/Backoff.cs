namespace LlmProxy.Failover;

/// <summary>Waits between attempts when the provider named none: doubling from the model's backoff, with jitter.</summary>
internal static class Backoff
{
    /// <summary>
    /// The wait before retry number <paramref name="retry"/> (1 for the first): half of <c>backoff × 2^(retry−1)</c>
    /// (capped at <paramref name="max"/>) plus a random share of the other half, so clients that failed together do
    /// not come back together.
    /// </summary>
    public static TimeSpan Of(int retry, TimeSpan backoff, TimeSpan max, double random)
    {
        var exponent = Math.Clamp(retry - 1, 0, 30);
        var full = Math.Min(backoff.TotalMilliseconds * Math.Pow(2, exponent), max.TotalMilliseconds);
        return TimeSpan.FromMilliseconds(full * (0.5 + (0.5 * Math.Clamp(random, 0, 1))));
    }
}
