using System.Text;
using System.Text.RegularExpressions;
using Json.Schema;
using Json.Schema.Keywords;

namespace LlmProxy.StructuredOutput;

/// <summary>
/// The engine every <c>pattern</c> and <c>patternProperties</c> regex of a compiled schema runs on. Clients write these
/// regexes and models write the strings they match, so a backtracking regex could take seconds per answer. Where .NET's
/// linear-time engine (<see cref="RegexOptions.NonBacktracking"/>) can express the pattern — no backreferences,
/// lookarounds or atomic groups, and no <c>\b</c>, <c>\B</c>, <c>\D</c> or <c>\W</c> inside a class whose ECMA-262
/// meaning it would change — it runs there, in time proportional to the string. Any other pattern runs backtracking in
/// ECMAScript mode with a match time limit of <see cref="Limit"/> per value: a match that runs out throws
/// <see cref="RegexMatchTimeoutException"/>, which validation turns into a failed verdict (the answer could not be checked).
/// </summary>
internal static class SchemaRegexes
{
    /// <summary>How long one backtracking schema regex may run against one value.</summary>
    public static readonly TimeSpan Limit = TimeSpan.FromMilliseconds(250);

    // Interpreted, not compiled: schemas come from clients, and compiling each distinct regex to IL costs far more than
    // matching the short strings of an answer.
    private const RegexOptions Backtracking = RegexOptions.ECMAScript;

    /// <summary>Replaces the regexes JsonSchema.Net built by ones on the engine described above.</summary>
    public static void Apply(List<JsonSchemaNode> nodes)
    {
        foreach (var node in nodes)
        {
            foreach (var keyword in node.Keywords)
            {
                if (keyword.Handler is PatternKeyword && keyword.Value is Regex regex)
                {
                    keyword.Value = Create(regex.ToString());
                }
                else if (keyword.Handler is PatternPropertiesKeyword && keyword.Value is Dictionary<string, Regex> patterns)
                {
                    foreach (var name in patterns.Keys.ToArray())
                    {
                        patterns[name] = Create(patterns[name].ToString());
                    }
                }
            }
        }
    }

    /// <summary>The regex for a pattern already in .NET syntax (see <see cref="EcmaPattern"/>).</summary>
    internal static Regex Create(string pattern)
    {
        if (Linear(pattern) is { } linear)
        {
            try
            {
                return new Regex(linear, RegexOptions.NonBacktracking | RegexOptions.CultureInvariant, Limit);
            }
            catch (NotSupportedException)
            {
                // A construct only the backtracking engine has (a backreference, a lookaround, an atomic group).
            }
        }

        return new Regex(pattern, Backtracking, Limit);
    }

    /// <summary>
    /// The pattern with ECMAScript mode's ASCII <c>\d</c> and <c>\w</c> spelled out, so it means the same without that
    /// mode; null when it uses what cannot be spelled out that way (<c>\b</c>, <c>\B</c>, or <c>\D</c>/<c>\W</c> in a class).
    /// </summary>
    internal static string? Linear(string pattern)
    {
        if (pattern.AsSpan().IndexOfAny(@"\") < 0)
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
                i++;
                var spelled = (next, inClass) switch
                {
                    ('d', false) => "[0-9]",
                    ('d', true) => "0-9",
                    ('D', false) => "[^0-9]",
                    ('w', false) => "[a-zA-Z0-9_]",
                    ('w', true) => "a-zA-Z0-9_",
                    ('W', false) => "[^a-zA-Z0-9_]",
                    ('D' or 'W', true) or ('b' or 'B', false) => null,
                    _ => "\\" + next,
                };
                if (spelled is null)
                {
                    return null;
                }

                result.Append(spelled);
                continue;
            }

            if (inClass)
            {
                inClass = c != ']';
            }
            else if (c == '[')
            {
                inClass = true;
                if (i + 1 < pattern.Length && pattern[i + 1] == '^')
                {
                    result.Append("[^");
                    i++;
                    continue;
                }
            }

            result.Append(c);
        }

        return result.ToString();
    }
}
