namespace LlmProxy.StructuredOutput;

/// <summary>
/// RFC 3339 <c>full-date</c>, <c>full-time</c> and <c>date-time</c> exactly as its ABNF reads (ASCII digits only, no
/// surrounding white space or trailing newline), with real month lengths and leap seconds only at 23:59:60 UTC.
/// </summary>
internal static class Rfc3339
{
    /// <summary>The JSON Schema <c>date</c> format.</summary>
    public static bool IsDate(ReadOnlySpan<char> s)
    {
        if (s.Length != 10 || s[4] != '-' || s[7] != '-' || !Digits(s[..4], out var year) || !Digits(s.Slice(5, 2), out var month)
            || !Digits(s.Slice(8, 2), out var day) || month is < 1 or > 12 || day < 1)
        {
            return false;
        }

        var leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
        return day <= month switch
        {
            2 => leap ? 29 : 28,
            4 or 6 or 9 or 11 => 30,
            _ => 31,
        };
    }

    /// <summary>The JSON Schema <c>time</c> format (an offset is required).</summary>
    public static bool IsTime(ReadOnlySpan<char> s)
    {
        if (s.Length < 9 || s[2] != ':' || s[5] != ':' || !Digits(s[..2], out var hour) || !Digits(s.Slice(3, 2), out var minute)
            || !Digits(s.Slice(6, 2), out var second) || hour > 23 || minute > 59 || second > 60)
        {
            return false;
        }

        var rest = s[8..];
        if (rest[0] == '.')
        {
            var digits = 1;
            while (digits < rest.Length && char.IsAsciiDigit(rest[digits]))
            {
                digits++;
            }

            if (digits == 1)
            {
                return false;
            }

            rest = rest[digits..];
        }

        int offset;
        if (rest is ['Z' or 'z'])
        {
            offset = 0;
        }
        else if (rest.Length == 6 && rest[0] is '+' or '-' && rest[3] == ':' && Digits(rest.Slice(1, 2), out var offsetHour)
            && Digits(rest.Slice(4, 2), out var offsetMinute) && offsetHour <= 23 && offsetMinute <= 59)
        {
            offset = (rest[0] == '+' ? 1 : -1) * ((offsetHour * 60) + offsetMinute);
        }
        else
        {
            return false;
        }

        // A leap second is the last second of a UTC day.
        return second < 60 || ((((hour * 60) + minute - offset) % 1440) + 1440) % 1440 == (23 * 60) + 59;
    }

    /// <summary>The JSON Schema <c>date-time</c> format.</summary>
    public static bool IsDateTime(ReadOnlySpan<char> s) => s.Length > 11 && s[10] is 'T' or 't' && IsDate(s[..10]) && IsTime(s[11..]);

    private static bool Digits(ReadOnlySpan<char> s, out int value)
    {
        value = 0;
        foreach (var c in s)
        {
            if (!char.IsAsciiDigit(c))
            {
                return false;
            }

            value = (value * 10) + (c - '0');
        }

        return true;
    }
}
