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
    [InlineData(@"^[\d_]+$", "١_", false)]
    [InlineData(@"^\w+$", "é", false)]
    [InlineData(@"^[^\w]$", "é", true)]
    [InlineData(@"^\W\D$", "é-", true)]
    [InlineData(@"\bcat\b", "a cat!", true)]
    [InlineData(@"^(?=a)\w$", "a", true)]
    public void Translate_EcmaPattern_MatchesAsEcma262Does(string pattern, string input, bool matches)
    {
        var translated = EcmaPattern.Translate(pattern, out var error);

        Assert.True(translated is not null, error);
        Assert.Equal(matches, new Regex(translated, RegexOptions.ECMAScript).IsMatch(input));
        Assert.Equal(matches, SchemaRegexes.Create(translated).IsMatch(input));
    }

    [Theory]
    [InlineData(@"^(a+)+$", true)]
    [InlineData(@"^[\d\w.-]+@x$", true)]
    [InlineData(@"^(\w+\s?)*$", true)]
    [InlineData(@"^(?=(a+)+$)", false)]
    [InlineData(@"^(a)\1$", false)]
    [InlineData(@"\bcat", false)]
    [InlineData(@"^[\W]$", false)]
    public void Create_Pattern_LinearEngineWhereverItMeansTheSame(string pattern, bool linear)
    {
        var regex = SchemaRegexes.Create(EcmaPattern.Translate(pattern, out _)!);

        Assert.Equal(linear, regex.Options.HasFlag(RegexOptions.NonBacktracking));
        // The backtracking engine needs the limit; the linear one cannot run long and must not fail a slow first match.
        Assert.Equal(linear ? Regex.InfiniteMatchTimeout : SchemaRegexes.Limit, regex.MatchTimeout);
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
