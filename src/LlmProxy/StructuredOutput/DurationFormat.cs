namespace LlmProxy.StructuredOutput;

/// <summary>
/// The JSON Schema <c>duration</c> format: RFC 3339 appendix A's ABNF for ISO 8601 durations — <c>P</c> then years,
/// months, days in that order with none skipped in between (<c>P1Y2D</c> is not one), and/or <c>T</c> with hours,
/// minutes, seconds likewise, or weeks alone; whole ASCII numbers only, nothing around.
/// </summary>
internal static class DurationFormat
{
    /// <summary>Whether <paramref name="s"/> is a duration.</summary>
    public static bool IsDuration(ReadOnlySpan<char> s)
    {
        if (s.Length < 3 || s[0] != 'P')
        {
            return false;
        }

        var rest = s[1..];
        var time = rest.IndexOf('T');
        var date = time < 0 ? rest : rest[..time];
        if (date.Length > 0 && date[^1] == 'W')
        {
            return time < 0 && Units(date, "W");
        }

        return (date.Length > 0 || time >= 0)
            && (date.Length == 0 || Units(date, "YMD"))
            && (time < 0 || (rest.Length > time + 1 && Units(rest[(time + 1)..], "HMS")));
    }

    // Number-unit pairs whose units are a run of consecutive letters of `order` (YM, MD, YMD… but not YD).
    private static bool Units(ReadOnlySpan<char> s, string order)
    {
        var previous = -1;
        while (s.Length > 0)
        {
            var digits = 0;
            while (digits < s.Length && char.IsAsciiDigit(s[digits]))
            {
                digits++;
            }

            if (digits == 0 || digits == s.Length)
            {
                return false;
            }

            var unit = order.IndexOf(s[digits], StringComparison.Ordinal);
            if (unit < 0 || (previous >= 0 && unit != previous + 1))
            {
                return false;
            }

            previous = unit;
            s = s[(digits + 1)..];
        }

        return true;
    }
}
