using System.Collections.Frozen;
using System.Text;

namespace LlmProxy.StructuredOutput;

/// <summary>
/// Rewrites a JSON Schema regex (ECMA-262, as <c>pattern</c> and <c>patternProperties</c> are defined) into .NET syntax
/// with the same meaning: Unicode General_Category escapes by their long names or as <c>gc=</c>/<c>General_Category=</c>
/// become .NET's short names; <c>\d</c>, <c>\w</c> (and <c>\D</c>, <c>\W</c> outside a class) are spelled out as the
/// ASCII classes they are in ECMA-262; <c>$</c> matches only at the very end (.NET's also matches before a final <c>\n</c>);
/// <c>.</c> excludes every ECMA-262 line terminator; <c>\s</c>/<c>\S</c> take ECMA-262's Unicode white space. Only
/// <c>\S</c> inside a character class keeps .NET's meaning (ASCII white space). What cannot be spelled out — <c>\b</c>,
/// <c>\B</c>, and <c>\D</c>/<c>\W</c> inside a class — keeps its ECMA-262 meaning only in .NET's
/// <c>RegexOptions.ECMAScript</c> mode. A property .NET has no equivalent for
/// (scripts, binary properties) is an error, never a guess.
/// </summary>
internal static class EcmaPattern
{
    // ECMA-262 WhiteSpace and LineTerminator, as class members (Zs covers U+0020, U+00A0, U+1680, U+2000-200A, U+202F, U+205F, U+3000).
    private const string SpaceMembers = @"\t\n\v\f\r\u2028\u2029\uFEFF\p{Zs}";

    // ECMA-262's \d and \w are ASCII; spelled out they mean the same on either .NET engine (see SchemaRegexes).
    private const string DigitMembers = "0-9";
    private const string WordMembers = "a-zA-Z0-9_";

    private static readonly FrozenDictionary<string, string> Categories = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["L"] = "L", ["Letter"] = "L", ["Lu"] = "Lu", ["Uppercase_Letter"] = "Lu", ["Ll"] = "Ll", ["Lowercase_Letter"] = "Ll",
        ["Lt"] = "Lt", ["Titlecase_Letter"] = "Lt", ["Lm"] = "Lm", ["Modifier_Letter"] = "Lm", ["Lo"] = "Lo", ["Other_Letter"] = "Lo",
        ["M"] = "M", ["Mark"] = "M", ["Combining_Mark"] = "M", ["Mn"] = "Mn", ["Nonspacing_Mark"] = "Mn", ["Mc"] = "Mc",
        ["Spacing_Mark"] = "Mc", ["Me"] = "Me", ["Enclosing_Mark"] = "Me", ["N"] = "N", ["Number"] = "N", ["Nd"] = "Nd",
        ["Decimal_Number"] = "Nd", ["digit"] = "Nd", ["Nl"] = "Nl", ["Letter_Number"] = "Nl", ["No"] = "No", ["Other_Number"] = "No",
        ["P"] = "P", ["Punctuation"] = "P", ["punct"] = "P", ["Pc"] = "Pc", ["Connector_Punctuation"] = "Pc", ["Pd"] = "Pd",
        ["Dash_Punctuation"] = "Pd", ["Ps"] = "Ps", ["Open_Punctuation"] = "Ps", ["Pe"] = "Pe", ["Close_Punctuation"] = "Pe",
        ["Pi"] = "Pi", ["Initial_Punctuation"] = "Pi", ["Pf"] = "Pf", ["Final_Punctuation"] = "Pf", ["Po"] = "Po",
        ["Other_Punctuation"] = "Po", ["S"] = "S", ["Symbol"] = "S", ["Sm"] = "Sm", ["Math_Symbol"] = "Sm", ["Sc"] = "Sc",
        ["Currency_Symbol"] = "Sc", ["Sk"] = "Sk", ["Modifier_Symbol"] = "Sk", ["So"] = "So", ["Other_Symbol"] = "So", ["Z"] = "Z",
        ["Separator"] = "Z", ["Zs"] = "Zs", ["Space_Separator"] = "Zs", ["Zl"] = "Zl", ["Line_Separator"] = "Zl", ["Zp"] = "Zp",
        ["Paragraph_Separator"] = "Zp", ["C"] = "C", ["Other"] = "C", ["Cc"] = "Cc", ["Control"] = "Cc", ["cntrl"] = "Cc",
        ["Cf"] = "Cf", ["Format"] = "Cf", ["Cs"] = "Cs", ["Surrogate"] = "Cs", ["Co"] = "Co", ["Private_Use"] = "Co",
        ["Cn"] = "Cn", ["Unassigned"] = "Cn",
    }.ToFrozenDictionary(StringComparer.Ordinal);

    /// <summary>The .NET form of <paramref name="pattern"/>, or null and why when .NET cannot express it.</summary>
    public static string? Translate(string pattern, out string? error)
    {
        error = null;
        if (pattern.AsSpan().IndexOfAny("\\$.[") < 0)
        {
            return pattern;
        }

        var result = new StringBuilder(pattern.Length + 16);
        var inClass = false;
        for (var i = 0; i < pattern.Length; i++)
        {
            var c = pattern[i];
            if (c == '\\' && i + 1 < pattern.Length)
            {
                var next = pattern[i + 1];
                if (next is 'p' or 'P' && i + 2 < pattern.Length && pattern[i + 2] == '{')
                {
                    var end = pattern.IndexOf('}', i + 3);
                    var name = end < 0 ? "" : pattern[(i + 3)..end];
                    if (Category(name) is not { } category)
                    {
                        error = $"the Unicode property '\\{next}{{{name}}}' in pattern '{pattern}' has no .NET equivalent";
                        return null;
                    }

                    result.Append('\\').Append(next).Append('{').Append(category).Append('}');
                    i = end;
                    continue;
                }

                var spelled = (next, inClass) switch
                {
                    ('s', true) => SpaceMembers,
                    ('s', false) => "[" + SpaceMembers + "]",
                    ('S', false) => "[^" + SpaceMembers + "]",
                    ('d', true) => DigitMembers,
                    ('d', false) => "[" + DigitMembers + "]",
                    ('D', false) => "[^" + DigitMembers + "]",
                    ('w', true) => WordMembers,
                    ('w', false) => "[" + WordMembers + "]",
                    ('W', false) => "[^" + WordMembers + "]",
                    _ => null,
                };
                if (spelled is null)
                {
                    result.Append(c).Append(next);
                }
                else
                {
                    result.Append(spelled);
                }

                i++;
                continue;
            }

            if (inClass)
            {
                inClass = c != ']';
                result.Append(c);
            }
            else if (c == '[')
            {
                // "[]" and "[^]" are complete classes in ECMA-262 (no character / any character); .NET reads that "]" as a member.
                var rest = pattern.AsSpan(i + 1);
                if (rest.StartsWith("]"))
                {
                    result.Append("(?!)");
                    i++;
                }
                else if (rest.StartsWith("^]"))
                {
                    result.Append(@"[\s\S]");
                    i += 2;
                }
                else
                {
                    inClass = true;
                    result.Append(c);
                }
            }
            else if (c == '$')
            {
                result.Append(@"\z");
            }
            else if (c == '.')
            {
                result.Append(@"[^\n\r\u2028\u2029]");
            }
            else
            {
                result.Append(c);
            }
        }

        return result.Equals(pattern.AsSpan()) ? pattern : result.ToString();
    }

    private static string? Category(string name)
    {
        var value = name.StartsWith("gc=", StringComparison.Ordinal) ? name[3..]
            : name.StartsWith("General_Category=", StringComparison.Ordinal) ? name["General_Category=".Length..]
            : name;
        return Categories.GetValueOrDefault(value);
    }
}
