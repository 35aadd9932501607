using System.Globalization;

namespace LlmProxy.Failover;

/// <summary>Reads how long a provider asked the client to wait: <c>retry-after-ms</c> first (OpenAI), then <c>Retry-After</c> (seconds or an HTTP date).</summary>
internal static class RetryAfter
{
    /// <summary>The longest wait believed; a larger value counts as this (a provider asking for hours is taken out, not waited for).</summary>
    public static readonly TimeSpan Max = TimeSpan.FromHours(1);

    /// <summary>The wait the headers ask for, or null when they name none (or nothing readable).</summary>
    public static TimeSpan? Of(HttpResponseMessage response, DateTimeOffset now)
    {
        if (response.Headers.NonValidated.TryGetValues("retry-after-ms", out var ms)
            && double.TryParse(ms.ToString(), NumberStyles.Float, CultureInfo.InvariantCulture, out var milliseconds)
            && milliseconds >= 0 && !double.IsInfinity(milliseconds))
        {
            return Clamp(TimeSpan.FromMilliseconds(Math.Min(milliseconds, Max.TotalMilliseconds)));
        }

        if (!response.Headers.NonValidated.TryGetValues("retry-after", out var values))
        {
            return null;
        }

        var value = values.ToString().Trim();
        if (double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds) && seconds >= 0 && !double.IsInfinity(seconds))
        {
            return Clamp(TimeSpan.FromSeconds(Math.Min(seconds, Max.TotalSeconds)));
        }

        return DateTimeOffset.TryParseExact(value, "r", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var date)
            ? Clamp(date - now)
            : null;
    }

    private static TimeSpan Clamp(TimeSpan wait) => wait < TimeSpan.Zero ? TimeSpan.Zero : wait > Max ? Max : wait;
}
