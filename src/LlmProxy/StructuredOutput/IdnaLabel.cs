using System.Collections.Frozen;
using System.Globalization;

namespace LlmProxy.StructuredOutput;

/// <summary>
/// Whether the part after <c>xn--</c> of a host name label is a valid IDNA2008 A-label: it decodes as Punycode
/// (RFC 3492) to a label with non-ASCII characters that RFC 5891/5892 allow — no leading combining mark, no <c>--</c>
/// in the third and fourth place, only PVALID characters (letters, digits and marks by General Category, less upper and
/// title case and compatibility forms, with RFC 5892's exceptions) and the CONTEXTJ/CONTEXTO characters where their
/// rules hold. Character properties are taken from .NET's Unicode data plus the few tables RFC 5892 names; bidi rules
/// and NFC are not checked.
/// </summary>
internal static class IdnaLabel
{
    private const int Base = 36;
    private const int TMin = 1;
    private const int TMax = 26;

    // Viramas (Canonical_Combining_Class 9), for the ZERO WIDTH (NON-)JOINER rules.
    private static readonly FrozenSet<int> Viramas =
    [
        0x094D, 0x09CD, 0x0A4D, 0x0ACD, 0x0B4D, 0x0BCD, 0x0C4D, 0x0CCD, 0x0D3B, 0x0D3C, 0x0D4D, 0x0DCA, 0x0E3A, 0x0EBA, 0x0F84,
        0x1039, 0x103A, 0x1714, 0x1715, 0x1734, 0x17D2, 0x1A60, 0x1B44, 0x1BAA, 0x1BAB, 0x1BF2, 0x1BF3, 0x2D7F, 0xA806, 0xA82C,
        0xA8C4, 0xA953, 0xA9C0, 0xAAF6, 0xABED, 0x10A3F, 0x11046, 0x11070, 0x1107F, 0x110B9, 0x11133, 0x11134, 0x111C0, 0x11235,
        0x112EA, 0x1134D, 0x11442, 0x114C2, 0x115BF, 0x1163F, 0x116B6, 0x1172B, 0x11839, 0x1193D, 0x1193E, 0x119E0, 0x11A34,
        0x11A47, 0x11A99, 0x11C3F, 0x11D44, 0x11D45, 0x11D97,
    ];

    // Arabic-script letters that join only on their right side (Joining_Type R); the others of those blocks are dual-joining.
    private static readonly FrozenSet<int> RightJoining =
    [
        0x0622, 0x0623, 0x0624, 0x0625, 0x0627, 0x0629, 0x062F, 0x0630, 0x0631, 0x0632, 0x0648, 0x0671, 0x0672, 0x0673, 0x0675,
        0x0676, 0x0677, 0x0688, 0x0689, 0x068A, 0x068B, 0x068C, 0x068D, 0x068E, 0x068F, 0x0690, 0x0691, 0x0692, 0x0693, 0x0694,
        0x0695, 0x0696, 0x0697, 0x0698, 0x0699, 0x06C0, 0x06C3, 0x06C4, 0x06C5, 0x06C6, 0x06C7, 0x06C8, 0x06C9, 0x06CA, 0x06CB,
        0x06CD, 0x06CF, 0x06D2, 0x06D3, 0x06D5, 0x06EE, 0x06EF, 0x0710, 0x0715, 0x0716, 0x0717, 0x0718, 0x0719, 0x071E, 0x0728,
        0x072A, 0x072C, 0x072F, 0x074D, 0x0759, 0x075A, 0x075B, 0x076B, 0x076C, 0x0771, 0x0773, 0x0774, 0x0778, 0x0779,
    ];

    /// <summary>Whether <paramref name="encoded"/> (a label without its <c>xn--</c>) is a valid A-label.</summary>
    public static bool IsALabel(ReadOnlySpan<char> encoded)
    {
        Span<int> label = stackalloc int[64];
        var length = Decode(encoded, label);
        if (length <= 0)
        {
            return false;
        }

        label = label[..length];
        if (!label.ContainsAnyExceptInRange(0, 0x7F) || label[0] == '-' || label[^1] == '-' || (length >= 4 && label[2] == '-' && label[3] == '-')
            || IsMark(label[0]))
        {
            return false;
        }

        for (var i = 0; i < label.Length; i++)
        {
            if (!Allowed(label, i))
            {
                return false;
            }
        }

        return true;
    }

    // RFC 3492 decoding into code points; the count, or -1 when it is not Punycode (or too long for a label).
    private static int Decode(ReadOnlySpan<char> input, Span<int> output)
    {
        var delimiter = input.LastIndexOf('-');
        var count = 0;
        if (delimiter > 0)
        {
            foreach (var c in input[..delimiter])
            {
                if (c >= 0x80 || count == output.Length)
                {
                    return -1;
                }

                output[count++] = c;
            }
        }

        var n = 0x80;
        var i = 0;
        var bias = 72;
        for (var position = delimiter > 0 ? delimiter + 1 : 0; position < input.Length;)
        {
            var oldI = i;
            var w = 1;
            for (var k = Base; ; k += Base)
            {
                if (position >= input.Length || Digit(input[position++]) is not (>= 0 and var digit) || digit > (int.MaxValue - i) / w)
                {
                    return -1;
                }

                i += digit * w;
                var t = k <= bias ? TMin : k >= bias + TMax ? TMax : k - bias;
                if (digit < t)
                {
                    break;
                }

                if (w > int.MaxValue / (Base - t))
                {
                    return -1;
                }

                w *= Base - t;
            }

            bias = Adapt(i - oldI, count + 1, oldI == 0);
            if (i / (count + 1) > 0x10FFFF - n)
            {
                return -1;
            }

            n += i / (count + 1);
            i %= count + 1;
            if (n is < 0x80 or (>= 0xD800 and <= 0xDFFF) || count == output.Length)
            {
                return -1;
            }

            output[i..count].CopyTo(output[(i + 1)..]);
            output[i++] = n;
            count++;
        }

        return count;
    }

    private static int Digit(char c) => c switch
    {
        >= '0' and <= '9' => c - '0' + 26,
        >= 'a' and <= 'z' => c - 'a',
        >= 'A' and <= 'Z' => c - 'A',
        _ => -1,
    };

    private static int Adapt(int delta, int points, bool first)
    {
        delta = first ? delta / 700 : delta / 2;
        delta += delta / points;
        var k = 0;
        while (delta > (Base - TMin) * TMax / 2)
        {
            delta /= Base - TMin;
            k += Base;
        }

        return k + ((Base - TMin + 1) * delta / (delta + 38));
    }

    private static bool Allowed(ReadOnlySpan<int> label, int i)
    {
        var c = label[i];
        switch (c)
        {
            case >= 'a' and <= 'z' or >= '0' and <= '9' or '-':
                return true;
            case < 0x80:
                return false;
            // RFC 5892 2.6 exceptions: PVALID, then DISALLOWED.
            case 0x00DF or 0x03C2 or 0x06FD or 0x06FE or 0x0F0B or 0x3007:
                return true;
            case 0x0640 or 0x07FA or 0x302E or 0x302F or (>= 0x3031 and <= 0x3035) or 0x303B:
                return false;
            // CONTEXTO (RFC 5892 appendix A).
            case 0x00B7:
                return i > 0 && i < label.Length - 1 && label[i - 1] == 'l' && label[i + 1] == 'l';
            case 0x0375:
                return i < label.Length - 1 && IsGreek(label[i + 1]);
            case 0x05F3 or 0x05F4:
                return i > 0 && IsHebrew(label[i - 1]);
            case 0x30FB:
                foreach (var other in label)
                {
                    if (other != 0x30FB && IsHiraganaKatakanaOrHan(other))
                    {
                        return true;
                    }
                }

                return false;
            case >= 0x0660 and <= 0x0669:
                return !label.ContainsAnyInRange(0x06F0, 0x06F9);
            case >= 0x06F0 and <= 0x06F9:
                return !label.ContainsAnyInRange(0x0660, 0x0669);
            // CONTEXTJ.
            case 0x200D:
                return i > 0 && Viramas.Contains(label[i - 1]);
            case 0x200C:
                return (i > 0 && Viramas.Contains(label[i - 1])) || JoinsAround(label, i);
        }

        if (IsCompatibilityForm(c) || c is (>= 0x1100 and <= 0x11FF) or (>= 0xA960 and <= 0xA97F) or (>= 0xD7B0 and <= 0xD7FF) or (>= 0x20D0 and <= 0x20FF))
        {
            return false;
        }

        return CharUnicodeInfo.GetUnicodeCategory(c) is UnicodeCategory.LowercaseLetter or UnicodeCategory.OtherLetter or UnicodeCategory.ModifierLetter
            or UnicodeCategory.NonSpacingMark or UnicodeCategory.SpacingCombiningMark or UnicodeCategory.DecimalDigitNumber;
    }

    // (Joining_Type:{L,D})(Joining_Type:T)* ZWNJ (Joining_Type:T)*(Joining_Type:{R,D})
    private static bool JoinsAround(ReadOnlySpan<int> label, int i)
    {
        var before = i - 1;
        while (before >= 0 && IsTransparent(label[before]))
        {
            before--;
        }

        var after = i + 1;
        while (after < label.Length && IsTransparent(label[after]))
        {
            after++;
        }

        return before >= 0 && after < label.Length && IsJoining(label[before]) && !RightJoining.Contains(label[before]) && IsJoining(label[after]);
    }

    private static bool IsTransparent(int c) => c is not (0x200C or 0x200D)
        && CharUnicodeInfo.GetUnicodeCategory(c) is UnicodeCategory.NonSpacingMark or UnicodeCategory.EnclosingMark or UnicodeCategory.Format;

    private static bool IsJoining(int c) => c is (>= 0x0620 and <= 0x064A and not 0x0621) or (>= 0x066E and <= 0x06D5) or 0x06EE or 0x06EF
        or (>= 0x06FA and <= 0x06FC) or 0x06FF or (>= 0x0710 and <= 0x074F) or (>= 0x0750 and <= 0x077F) or (>= 0x08A0 and <= 0x08C9)
        ? CharUnicodeInfo.GetUnicodeCategory(c) == UnicodeCategory.OtherLetter
        : false;

    private static bool IsMark(int c) => CharUnicodeInfo.GetUnicodeCategory(c) is UnicodeCategory.NonSpacingMark or UnicodeCategory.SpacingCombiningMark
        or UnicodeCategory.EnclosingMark;

    private static bool IsGreek(int c) => c is (>= 0x0370 and <= 0x03FF and not 0x0375 and not 0x037E and not 0x0385 and not 0x0387) or (>= 0x1F00 and <= 0x1FFF);

    private static bool IsHebrew(int c) => c is (>= 0x0591 and <= 0x05F4) or (>= 0xFB1D and <= 0xFB4F);

    private static bool IsHiraganaKatakanaOrHan(int c) => c is (>= 0x3041 and <= 0x309F) or (>= 0x30A0 and <= 0x30FF) or (>= 0x31F0 and <= 0x31FF)
        or (>= 0x2E80 and <= 0x2FDF) or 0x3005 or 0x3007 or (>= 0x3021 and <= 0x3029) or (>= 0x3038 and <= 0x303B) or (>= 0x3400 and <= 0x4DBF)
        or (>= 0x4E00 and <= 0x9FFF) or (>= 0xF900 and <= 0xFAFF) or (>= 0x20000 and <= 0x3134F);

    // Blocks whose letters change under NFKC (so are not PVALID): ligatures and presentation forms, full- and half-width forms, CJK compatibility.
    private static bool IsCompatibilityForm(int c) => c is (>= 0xFB00 and <= 0xFDFF) or (>= 0xFE70 and <= 0xFEFF) or (>= 0xFF00 and <= 0xFFEF)
        or (>= 0xF900 and <= 0xFAFF) or (>= 0x3300 and <= 0x33FF) or (>= 0x2070 and <= 0x218F) or (>= 0x1D400 and <= 0x1D7FF);
}
