using System.Text;
using LlmProxy.Providers;

namespace LlmProxy.Tests.Providers;

public sealed class UpstreamErrorRewriterTests
{
    [Theory]
    [InlineData("""{"error":{"message":"x"}}""", true)]
    [InlineData("""{"error":"overloaded"}""", true)]
    [InlineData("""{"message":"x"}""", false)]
    [InlineData("""[{"error":{}}]""", false)]
    [InlineData("<html>502</html>", false)]
    [InlineData("", false)]
    public void IsOpenAIError_Body_RecognisesErrorObjects(string body, bool expected)
    {
        Assert.Equal(expected, UpstreamErrorRewriter.IsOpenAIError(Encoding.UTF8.GetBytes(body)));
    }

    [Fact]
    public void Redact_KeyAndMaskedPrefix_BothReplaced()
    {
        const string key = "sk-proj-abcdefghijklmnop";
        var body = Encoding.UTF8.GetBytes($"key {key} or sk-proj-****mnop");

        var redacted = Encoding.UTF8.GetString(UpstreamErrorRewriter.Redact(body, key));

        Assert.Equal("key [redacted] or [redacted]****mnop", redacted);
    }

    [Fact]
    public void Redact_NoCredential_ReturnsSameBody()
    {
        var body = Encoding.UTF8.GetBytes("anything");

        Assert.Same(body, UpstreamErrorRewriter.Redact(body, null));
    }
}
