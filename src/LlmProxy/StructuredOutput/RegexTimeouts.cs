using System.Text.RegularExpressions;
using Json.Schema;
using Json.Schema.Keywords;

namespace LlmProxy.StructuredOutput;

/// <summary>
/// Gives every <c>pattern</c> and <c>patternProperties</c> regex of a compiled schema its own match time limit, so no
/// client's regex runs long on the gateway's threads whatever the process-wide default is. A match that runs out throws
/// <see cref="RegexMatchTimeoutException"/>, which validation turns into a failed verdict (the answer could not be checked).
/// </summary>
internal static class RegexTimeouts
{
    /// <summary>How long one schema regex may run against one value.</summary>
    public static readonly TimeSpan Limit = TimeSpan.FromMilliseconds(250);

    // Interpreted, not compiled: schemas come from clients, and compiling each distinct regex to IL costs far more than
    // matching the short strings of an answer.
    private const RegexOptions Options = RegexOptions.ECMAScript;

    /// <summary>Replaces the regexes JsonSchema.Net built (with the default time limit) by equal ones with <see cref="Limit"/>.</summary>
    public static void Apply(List<JsonSchemaNode> nodes)
    {
        foreach (var node in nodes)
        {
            foreach (var keyword in node.Keywords)
            {
                if (keyword.Handler is PatternKeyword && keyword.Value is Regex regex)
                {
                    keyword.Value = new Regex(regex.ToString(), Options, Limit);
                }
                else if (keyword.Handler is PatternPropertiesKeyword && keyword.Value is Dictionary<string, Regex> patterns)
                {
                    foreach (var name in patterns.Keys.ToArray())
                    {
                        patterns[name] = new Regex(patterns[name].ToString(), Options, Limit);
                    }
                }
            }
        }
    }
}
