using System.Buffers;

namespace LlmProxy.StructuredOutput;

/// <summary>
/// The JSON Schema <c>email</c> format (RFC 5321 <c>Mailbox</c>): a dot-atom or quoted-string local part, <c>@</c>, and a
/// host name (<see cref="HostnameFormat"/>) or an address literal (<c>[192.0.2.1]</c>, <c>[IPv6:…]</c>); ASCII only.
/// </summary>
internal static class EmailFormat
{
    private static readonly SearchValues<char> Atext = SearchValues.Create(
        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&'*+-/=?^_`{|}~");

    /// <summary>Whether <paramref name="s"/> is an e-mail address.</summary>
    public static bool IsEmail(ReadOnlySpan<char> s)
    {
        var at = s.Length > 0 && s[0] == '"' ? QuotedEnd(s) : s.IndexOf('@');
        if (at <= 0 || at > 64 || at == s.Length - 1 || s[at] != '@' || (s[0] != '"' && !IsDotAtom(s[..at])))
        {
            return false;
        }

        var domain = s[(at + 1)..];
        if (domain[0] != '[')
        {
            return HostnameFormat.IsHostname(domain);
        }

        if (domain[^1] != ']')
        {
            return false;
        }

        var literal = domain[1..^1];
        return literal.StartsWith("IPv6:", StringComparison.OrdinalIgnoreCase) ? IpAddressFormats.IsIpv6(literal[5..]) : IpAddressFormats.IsIpv4(literal);
    }

    private static bool IsDotAtom(ReadOnlySpan<char> local)
    {
        foreach (var range in local.Split('.'))
        {
            var atom = local[range];
            if (atom.Length == 0 || atom.ContainsAnyExcept(Atext))
            {
                return false;
            }
        }

        return true;
    }

    // The index just past a quoted-string local part (where '@' must follow), or -1.
    private static int QuotedEnd(ReadOnlySpan<char> s)
    {
        for (var i = 1; i < s.Length; i++)
        {
            switch (s[i])
            {
                case '\\' when i + 1 < s.Length && s[i + 1] is >= ' ' and <= '~':
                    i++;
                    break;
                case '"':
                    return i + 1 < s.Length ? i + 1 : -1;
                case < ' ' or > '~' or '\\':
                    return -1;
            }
        }

        return -1;
    }
}
