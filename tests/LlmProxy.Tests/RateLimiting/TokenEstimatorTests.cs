using System.Text;
using LlmProxy.RateLimiting;

namespace LlmProxy.Tests.RateLimiting;

public sealed class TokenEstimatorTests
{
    private static TokenEstimator.Estimate Count(string body, string model = "gpt-4o", bool producesText = true)
        => TokenEstimator.Count(Encoding.UTF8.GetBytes(body), TokenEstimator.For(model), producesText, defaultMaxTokens: 4096);

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
        var direct = TokenEstimator.For("gpt-4o").CountTokens("a\nbé");

        Assert.Equal(direct, escaped.Prompt);
        Assert.Equal(TokenEstimator.For("gpt-4o").CountTokens(text), Count($$"""{"prompt":"{{text}}"}""").Prompt);
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
        Assert.Equal(expected.CountTokens(Sample), TokenEstimator.For(model).CountTokens(Sample));
    }
}
