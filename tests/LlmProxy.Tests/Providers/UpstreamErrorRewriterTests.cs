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
}
