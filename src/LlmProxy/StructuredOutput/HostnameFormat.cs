using System.Buffers;

namespace LlmProxy.StructuredOutput;

/// <summary>
/// The JSON Schema <c>hostname</c> format: RFC 1123 names (dot-separated labels of 1-63 ASCII letters, digits and
/// hyphens, not starting or ending with a hyphen, 253 characters at most, no trailing dot), where a label with
/// <c>--</c> in its third and fourth place must be a valid IDNA2008 A-label (<see cref="IdnaLabel"/>).
/// </summary>
internal static class HostnameFormat
{
    private static readonly SearchValues<char> LetterDigitHyphen = SearchValues.Create("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-");

    /// <summary>Whether <paramref name="s"/> is a host name.</summary>
    public static bool IsHostname(ReadOnlySpan<char> s)
    {
        if (s.Length is 0 or > 253)
        {
            return false;
        }

        foreach (var range in s.Split('.'))
        {
            var label = s[range];
            if (label.Length is 0 or > 63 || label[0] == '-' || label[^1] == '-' || label.ContainsAnyExcept(LetterDigitHyphen))
            {
                return false;
            }

            if (label.Length >= 4 && label[2] == '-' && label[3] == '-' && !(label.StartsWith("xn--", StringComparison.OrdinalIgnoreCase) && IdnaLabel.IsALabel(label[4..])))
            {
                return false;
            }
        }

        return true;
    }
}
