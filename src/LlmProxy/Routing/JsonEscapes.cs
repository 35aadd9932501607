namespace LlmProxy.Routing;

/// <summary>Checks on the escapes of raw JSON text that the readers of later stages would otherwise throw on.</summary>
internal static class JsonEscapes
{
    /// <summary>
    /// True when a <c>\u</c> escape in <paramref name="json"/> is a lone surrogate (a high one not followed by a low
    /// one, or a low one alone). Such a string cannot be decoded to text, so every reader that asks for it throws.
    /// </summary>
    public static bool HasLoneSurrogate(ReadOnlySpan<byte> json)
    {
        var at = 0;
        while (true)
        {
            var found = json[at..].IndexOf("\\u"u8);
            if (found < 0)
            {
                return false;
            }

            var i = at + found;
            at = i + 2;
            if (IsEscaped(json, i) || !TryReadUnit(json, i + 2, out var unit))
            {
                // "\\u" is an escaped backslash before a 'u'; a malformed escape is the JSON reader's to refuse.
                continue;
            }

            if (unit is >= 0xDC00 and <= 0xDFFF)
            {
                return true;
            }

            if (unit is >= 0xD800 and <= 0xDBFF)
            {
                if (json.Length < i + 12 || json[i + 6] != '\\' || json[i + 7] != 'u'
                    || !TryReadUnit(json, i + 8, out var low) || low is < 0xDC00 or > 0xDFFF)
                {
                    return true;
                }

                at = i + 12;
            }
        }
    }

    // A backslash is itself escaped when an odd number of backslashes precede it.
    private static bool IsEscaped(ReadOnlySpan<byte> json, int backslash)
    {
        var count = 0;
        for (var j = backslash - 1; j >= 0 && json[j] == '\\'; j--)
        {
            count++;
        }

        return count % 2 == 1;
    }

    private static bool TryReadUnit(ReadOnlySpan<byte> json, int start, out int unit)
    {
        unit = 0;
        if (json.Length < start + 4)
        {
            return false;
        }

        for (var k = start; k < start + 4; k++)
        {
            var digit = HexValue(json[k]);
            if (digit < 0)
            {
                return false;
            }

            unit = (unit << 4) | digit;
        }

        return true;
    }

    /// <summary>The value of a hex digit, or -1.</summary>
    public static int HexValue(byte b) => b switch
    {
        >= (byte)'0' and <= (byte)'9' => b - '0',
        >= (byte)'a' and <= (byte)'f' => b - 'a' + 10,
        >= (byte)'A' and <= (byte)'F' => b - 'A' + 10,
        _ => -1,
    };
}
