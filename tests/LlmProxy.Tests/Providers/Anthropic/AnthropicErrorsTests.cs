using System.Text;
using System.Text.Json;
using LlmProxy.Providers.Anthropic;

namespace LlmProxy.Tests.Providers.Anthropic;

public sealed class AnthropicErrorsTests
{
    [Theory]
    [InlineData(529, "overloaded_error", 503, "server_error", true)]
    [InlineData(429, "rate_limit_error", 429, "requests", true)]
    [InlineData(400, "invalid_request_error", 400, "invalid_request_error", false)]
    [InlineData(402, "billing_error", 402, "insufficient_quota", false)]
    [InlineData(504, "timeout_error", 504, "server_error", true)]
    public void Translate_AnthropicError_StatusTypeAndRetry(int status, string anthropicType, int expected, string type, bool retry)
    {
        var result = AnthropicErrors.Translate(status, Encoding.UTF8.GetBytes($$$"""{"type":"error","error":{"type":"{{{anthropicType}}}","message":"m"}}"""));
        var error = JsonDocument.Parse(result.OpenAIBody).RootElement.GetProperty("error");

        Assert.Equal(expected, result.Status);
        Assert.Equal(type, error.GetProperty("type").GetString());
        Assert.Equal("m", error.GetProperty("message").GetString());
        Assert.Equal(JsonValueKind.Null, error.GetProperty("param").ValueKind);
        Assert.Equal(retry, result.ShouldRetry);
    }

    [Fact]
    public void Translate_BodyNotAnAnthropicError_OpenAIShapedUpstreamError()
    {
        var result = AnthropicErrors.Translate(502, "<html>bad gateway</html>"u8);
        var error = JsonDocument.Parse(result.OpenAIBody).RootElement.GetProperty("error");

        Assert.Equal(502, result.Status);
        Assert.Equal("upstream_error", error.GetProperty("code").GetString());
        Assert.DoesNotContain("html", error.GetProperty("message").GetString(), StringComparison.Ordinal);
    }
}
