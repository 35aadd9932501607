using System.Text.RegularExpressions;
using Json.Schema;
using Json.Schema.Keywords;

namespace LlmProxy.StructuredOutput;

/// <summary>
/// The engine every <c>pattern</c> and <c>patternProperties</c> regex of a compiled schema runs on. Clients write these
/// regexes and models write the strings they match, so a backtracking regex could take seconds per answer. Where .NET's
/// linear-time engine (<see cref="RegexOptions.NonBacktracking"/>, no time limit needed) can express the pattern with its ECMA-262 meaning —
/// no backreferences, lookarounds or atomic groups, and none of what <see cref="EcmaPattern"/> leaves to ECMAScript mode
/// (<c>\b</c>, <c>\B</c>, <c>\D</c>/<c>\W</c> inside a class) — it runs there, in time proportional to the string. Any other pattern runs backtracking in
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
        if (!NeedsEcmaScriptMode(pattern))
        {
            try
            {
                // Linear in the string by construction, so no time limit: one would only fail legitimate matches on a busy
                // machine (the engine builds its automaton lazily, during the first matches, and that counts against it).
                return new Regex(pattern, RegexOptions.NonBacktracking | RegexOptions.CultureInvariant, Regex.InfiniteMatchTimeout);
            }
            catch (NotSupportedException)
            {
                // A construct only the backtracking engine has (a backreference, a lookaround, an atomic group).
            }
        }

        return new Regex(pattern, Backtracking, Limit);
    }

    // What EcmaPattern leaves for ECMAScript mode to read as ECMA-262 does: \b, \B, and \D or \W inside a class. Seen in
    // the text at all (an escaped backslash before a 'b' included), the pattern stays on the engine where it means that.
    private static bool NeedsEcmaScriptMode(string pattern)
        => pattern.Contains(@"\b", StringComparison.Ordinal) || pattern.Contains(@"\B", StringComparison.Ordinal)
            || pattern.Contains(@"\D", StringComparison.Ordinal) || pattern.Contains(@"\W", StringComparison.Ordinal);
}
