using System.Text.RegularExpressions;
using LlmProxy.StructuredOutput;

namespace LlmProxy.Tests.StructuredOutput;

public sealed class EcmaPatternTests
{
    [Theory]
    [InlineData(@"^\p{Letter}+$", "Ωmega", true)]
    [InlineData(@"^\p{Letter}+$", "123", false)]
    [InlineData(@"^\p{gc=Uppercase_Letter}$", "Ä", true)]
    [InlineData(@"^\P{General_Category=Decimal_Number}+$", "abc", true)]
    [InlineData(@"^[\p{Lowercase_Letter}\d]+$", "ab1", true)]
    [InlineData(@"^abc$", "abc\n", false)]
    [InlineData(@"^a.c$", "a\rc", false)]
    [InlineData(@"^a.c$", "a-c", true)]
    [InlineData(@"^\s$", "\u00a0", true)]
    [InlineData(@"^\S$", "\u2003", false)]
    [InlineData(@"^[^\s]$", "\ufeff", false)]
    [InlineData(@"^[^]$", "\n", true)]
    [InlineData(@"^a[]", "a", false)]
    [InlineData(@"^\$\.[$.]$", "$..", true)]
    [InlineData(@"^\d+$", "١٢", false)]
    public void Translate_EcmaPattern_MatchesAsEcma262Does(string pattern, string input, bool matches)
    {
        var translated = EcmaPattern.Translate(pattern, out var error);

        Assert.True(translated is not null, error);
        Assert.Equal(matches, new Regex(translated, RegexOptions.ECMAScript).IsMatch(input));
    }

    [Theory]
    [InlineData(@"^\p{Script=Greek}+$", "Script=Greek")]
    [InlineData(@"\p{Alphabetic}", "Alphabetic")]
    [InlineData(@"\p{Cased_Letter}", "Cased_Letter")]
    public void Translate_PropertyDotNetLacks_ErrorNamingIt(string pattern, string mention)
    {
        Assert.Null(EcmaPattern.Translate(pattern, out var error));
        Assert.Contains(mention, error, StringComparison.Ordinal);
    }

    [Fact]
    public void Translate_NothingToChange_SameInstance()
    {
        const string Pattern = "^[a-z]{2,5}(-[0-9]+)?";

        Assert.Same(Pattern, EcmaPattern.Translate(Pattern, out _));
    }
}
