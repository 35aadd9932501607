using System.Buffers;

namespace LlmProxy.StructuredOutput;

/// <summary>
/// The JSON Schema <c>ipv4</c> (RFC 2673 dotted-quad: four decimal parts 0-255, no leading zeros) and <c>ipv6</c>
/// (RFC 4291 text form, an embedded dotted-quad allowed last; no brackets, zone or prefix length) formats, ASCII only.
/// </summary>
internal static class IpAddressFormats
{
    private static readonly SearchValues<char> Hex = SearchValues.Create("0123456789abcdefABCDEF");

    /// <summary>Whether <paramref name="s"/> is an IPv4 address.</summary>
    public static bool IsIpv4(ReadOnlySpan<char> s)
    {
        var parts = 0;
        foreach (var range in s.Split('.'))
        {
            var part = s[range];
            if (++parts > 4 || part.Length is 0 or > 3 || (part.Length > 1 && part[0] == '0'))
            {
                return false;
            }

            var value = 0;
            foreach (var c in part)
            {
                if (!char.IsAsciiDigit(c))
                {
                    return false;
                }

                value = (value * 10) + (c - '0');
            }

            if (value > 255)
            {
                return false;
            }
        }

        return parts == 4;
    }

    /// <summary>Whether <paramref name="s"/> is an IPv6 address.</summary>
    public static bool IsIpv6(ReadOnlySpan<char> s)
    {
        var gap = s.IndexOf("::");
        if (gap < 0)
        {
            return Groups(s, last: true) == 8;
        }

        var head = s[..gap];
        var tail = s[(gap + 2)..];
        if (tail.Contains("::", StringComparison.Ordinal))
        {
            return false;
        }

        var before = head.Length == 0 ? 0 : Groups(head, last: false);
        var after = tail.Length == 0 ? 0 : Groups(tail, last: true);
        return before >= 0 && after >= 0 && before + after <= 7;
    }

    // How many 16-bit groups a ':'-separated run holds (an IPv4 part, allowed only at the very end, counts two); -1 if malformed.
    private static int Groups(ReadOnlySpan<char> s, bool last)
    {
        var count = 0;
        foreach (var range in s.Split(':'))
        {
            var group = s[range];
            if (last && range.End.Value == s.Length && group.Contains('.'))
            {
                return IsIpv4(group) ? count + 2 : -1;
            }

            if (group.Length is 0 or > 4 || group.ContainsAnyExcept(Hex))
            {
                return -1;
            }

            count++;
        }

        return count;
    }
}
