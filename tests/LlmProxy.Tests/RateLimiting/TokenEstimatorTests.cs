using System.Text;
using LlmProxy.RateLimiting;

namespace LlmProxy.Tests.RateLimiting;

public sealed class TokenEstimatorTests
{
    // One estimator for the class: loading the two encodings costs far more than the tests (the cache tests make their own).
    private static readonly TokenEstimator Estimator = new();

    private static TokenEstimator.Estimate Count(string body, string model = "gpt-4o", bool producesText = true)
        => Estimator.Count(Encoding.UTF8.GetBytes(body), Estimator.For(model), producesText, defaultMaxTokens: 4096);

    [Fact]
    public void Count_ChatMessages_TokensOfTextPlusOpenAIFraming()
    {
        var estimate = Count("""{"model":"gpt-4o","messages":[{"role":"system","content":"You are helpful."},{"role":"user","content":"Hello world"}],"max_tokens":50}""");

        // o200k: "system" 1, "You are helpful." 4, "user" 1, "Hello world" 2; + 3 per message + 3 for the reply.
        Assert.Equal(1 + 4 + 1 + 2 + 3 + 3 + 3, estimate.Prompt);
        Assert.Equal(50, estimate.MaxOutput);
    }

    [Fact]
    public void Count_ContentParts_CountsTheirText()
    {
        var parts = Count("""{"messages":[{"role":"user","content":[{"type":"text","text":"Hello world"}]}]}""");
        var plain = Count("""{"messages":[{"role":"user","content":"Hello world"}]}""");

        // The part adds only its "text" type string.
        Assert.Equal(plain.Prompt + 1, parts.Prompt);
    }

    [Theory]
    [InlineData("""{"messages":[],"max_completion_tokens":30,"max_tokens":80}""", 30)]
    [InlineData("""{"messages":[],"max_tokens":80,"n":3}""", 240)]
    [InlineData("""{"messages":[]}""", 4096)]
    [InlineData("""{"input":"x","max_output_tokens":7}""", 7)]
    public void Count_OutputCaps_SmallestCapTimesChoicesOrTheDefault(string body, long expected)
    {
        Assert.Equal(expected, Count(body).MaxOutput);
    }

    [Fact]
    public void Count_EmbeddingsTokenIds_OneEachAndNoOutput()
    {
        var estimate = Count("""{"input":[[1,2,3],[4,5]],"model":"text-embedding-3-small"}""", "text-embedding-3-small", producesText: false);

        Assert.Equal(5, estimate.Prompt);
        Assert.Equal(0, estimate.MaxOutput);
    }

    [Fact]
    public void Count_EscapedAndLongStrings_CountsTheDecodedText()
    {
        var text = string.Concat(Enumerable.Repeat("lorem ipsum dolor sit amet ", 400));
        var escaped = Count("{\"prompt\":\"a\\nb\\u00e9\"}");
        var direct = Estimator.For("gpt-4o").CountTokens("a\nbé");

        Assert.Equal(direct, escaped.Prompt);
        Assert.Equal(Estimator.For("gpt-4o").CountTokens(text), Count($$"""{"prompt":"{{text}}"}""").Prompt);
    }

    [Fact]
    public void Count_InlineImage_FixedEstimateNotItsBase64()
    {
        var image = "data:image/png;base64," + new string('A', 400_000);
        var body = """{"messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":""" + "\"" + image + "\"}}]}]}";

        var estimate = Count(body);

        // "user", "image_url" and the 1,000 of the image, plus the framing.
        Assert.InRange(estimate.Prompt, 1000, 1020);
    }

    [Theory]
    [InlineData("gpt-4o-mini", "o200k_base")]
    [InlineData("gpt-4.1", "o200k_base")]
    [InlineData("gpt-4-turbo", "cl100k_base")]
    [InlineData("gpt-3.5-turbo", "cl100k_base")]
    [InlineData("llama-3-70b", "o200k_base")]
    public void For_Model_PicksItsEncoding(string model, string encoding)
    {
        var expected = Microsoft.ML.Tokenizers.TiktokenTokenizer.CreateForEncoding(encoding);
        // The encodings differ on this text, so equal counts mean the same encoding.
        const string Sample = "Übermäßig 東京 tokenization 12345!";
        Assert.Equal(expected.CountTokens(Sample), Estimator.For(model).CountTokens(Sample));
    }

    [Fact]
    public void Count_ByModelName_SameAsWithItsTokenizer()
    {
        var body = Encoding.UTF8.GetBytes("""{"messages":[{"role":"user","content":"Übermäßig 東京 tokenization"}],"max_tokens":7}""");

        Assert.Equal(Estimator.Count(body, Estimator.For("gpt-4-turbo"), true, 4096), Estimator.Count(body, "gpt-4-turbo", true, 4096));
        Assert.Equal(Estimator.Count(body, Estimator.For("gpt-4o"), true, 4096), Estimator.Count(body, "gpt-4o", true, 4096));
    }

    [Fact]
    public void Count_RepeatedStrings_CountedOnceFromTheCache()
    {
        var estimator = new TokenEstimator();
        var body = Encoding.UTF8.GetBytes("""{"messages":[{"role":"system","content":"You are helpful."},{"role":"user","content":"Hello world"}]}""");

        var first = estimator.Count(body, "gpt-4o", true, 4096);
        var cached = estimator.CachedCount;
        var second = estimator.Count(body, "gpt-4o", true, 4096);

        Assert.Equal(first, second);
        Assert.Equal(4, cached);
        Assert.Equal(cached, estimator.CachedCount);
    }

    [Fact]
    public void Count_TwoInstances_ShareNoCache()
    {
        var first = new TokenEstimator();
        var second = new TokenEstimator();

        first.Count(Encoding.UTF8.GetBytes("""{"prompt":"only in the first"}"""), "gpt-4o", true, 4096);

        Assert.Equal(1, first.CachedCount);
        Assert.Equal(0, second.CachedCount);
        Assert.NotSame(first.For("gpt-4o"), second.For("gpt-4o"));
    }

    [Fact]
    public void Count_MoreStringsThanTheLimit_CacheStaysBoundedAndCountsCorrect()
    {
        var estimator = new TokenEstimator();
        var strings = Enumerable.Range(0, TokenEstimator.MaxEntries + 500).Select(static i => "w" + i.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray();
        var body = Encoding.UTF8.GetBytes(System.Text.Json.JsonSerializer.Serialize(new { prompt = strings }));
        var tokenizer = estimator.For("gpt-4o");
        var expected = strings.Sum(s => (long)tokenizer.CountTokens(s));

        var estimate = estimator.Count(body, "gpt-4o", true, 4096);

        Assert.Equal(expected, estimate.Prompt);
        Assert.InRange(estimator.CachedCount, 1, TokenEstimator.MaxEntries);

        // Counted again, partly from what the cache kept: the same total, and still within the bound.
        Assert.Equal(expected, estimator.Count(body, "gpt-4o", true, 4096).Prompt);
        Assert.InRange(estimator.CachedCount, 1, TokenEstimator.MaxEntries);
    }
}
