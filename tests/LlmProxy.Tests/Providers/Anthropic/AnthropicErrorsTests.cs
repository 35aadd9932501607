using System.Text;
using System.Text.Json;
using LlmProxy.Providers.Anthropic;

namespace LlmProxy.Tests.Providers.Anthropic;

public sealed class AnthropicErrorsTests
{
    private static string Body(string type, string message)
        => "{\"type\":\"error\",\"error\":{\"type\":\"" + type + "\",\"message\":\"" + message + "\"},\"request_id\":\"req_011\"}";

    private static JsonElement ErrorOf(byte[] body)
    {
        var error = JsonDocument.Parse(body).RootElement.GetProperty("error").Clone();
        Assert.Equal(["message", "type", "param", "code"], error.EnumerateObject().Select(p => p.Name));
        Assert.Equal(JsonValueKind.Null, error.GetProperty("param").ValueKind);
        return error;
    }

    [Theory]
    [InlineData(400, "invalid_request_error", "bad", "invalid_request_error", null)]
    [InlineData(401, "authentication_error", "invalid x-api-key", "authentication_error", "invalid_api_key")]
    [InlineData(403, "permission_error", "no", "permission_error", null)]
    [InlineData(404, "not_found_error", "model: claude-9", "invalid_request_error", "model_not_found")]
    [InlineData(404, "not_found_error", "Not found", "invalid_request_error", null)]
    [InlineData(413, "request_too_large", "too big", "invalid_request_error", "request_too_large")]
    [InlineData(429, "rate_limit_error", "slow down", "requests", "rate_limit_exceeded")]
    [InlineData(500, "api_error", "oops", "server_error", null)]
    [InlineData(529, "overloaded_error", "Overloaded", "server_error", "overloaded")]
    [InlineData(504, "timeout_error", "late", "server_error", "timeout")]
    [InlineData(402, "billing_error", "pay", "insufficient_quota", "insufficient_quota")]
    [InlineData(418, "new_error", "teapot", "invalid_request_error", null)]
    [InlineData(503, "new_error", "down", "server_error", null)]
    public void Translate_AnthropicError_Mapped(int status, string type, string message, string openAIType, string? code)
    {
        var result = AnthropicErrors.Translate(status, Encoding.UTF8.GetBytes(Body(type, message)));

        var error = ErrorOf(result.OpenAIBody);
        Assert.Equal(message, error.GetProperty("message").GetString());
        Assert.Equal(openAIType, error.GetProperty("type").GetString());
        Assert.Equal(code, error.GetProperty("code").GetString());
    }

    [Theory]
    [InlineData(400, 400, false)]
    [InlineData(401, 401, false)]
    [InlineData(404, 404, false)]
    [InlineData(408, 408, true)]
    [InlineData(409, 409, true)]
    [InlineData(413, 413, false)]
    [InlineData(429, 429, true)]
    [InlineData(500, 500, true)]
    [InlineData(503, 503, true)]
    [InlineData(529, 503, true)]
    public void Translate_Status_KeptExcept529AndRetryable(int status, int sent, bool retry)
    {
        var result = AnthropicErrors.Translate(status, Encoding.UTF8.GetBytes(Body("api_error", "x")));

        Assert.Equal(sent, result.Status);
        Assert.Equal(retry, result.ShouldRetry);
    }

    [Theory]
    [InlineData(502, "<html>Bad gateway</html>", "server_error")]
    [InlineData(400, "{\"error\":{\"message\":\"openai-shaped\"}}", "invalid_request_error")]
    [InlineData(529, "", "server_error")]
    public void Translate_NotAnAnthropicError_UpstreamError(int status, string body, string type)
    {
        var result = AnthropicErrors.Translate(status, Encoding.UTF8.GetBytes(body));

        var error = ErrorOf(result.OpenAIBody);
        Assert.Equal($"The provider answered HTTP {status} with a body that is not an Anthropic error.", error.GetProperty("message").GetString());
        Assert.Equal(type, error.GetProperty("type").GetString());
        Assert.Equal("upstream_error", error.GetProperty("code").GetString());
        Assert.Equal(status == 529 ? 503 : status, result.Status);
    }

    [Fact]
    public void SseErrorData_OverloadedEvent_OpenAIError()
    {
        var error = ErrorOf(AnthropicErrors.SseErrorData("{\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"Overloaded\"}}"u8));

        Assert.Equal("Overloaded", error.GetProperty("message").GetString());
        Assert.Equal("server_error", error.GetProperty("type").GetString());
        Assert.Equal("overloaded", error.GetProperty("code").GetString());
    }

    [Fact]
    public void SseErrorData_Garbage_GenericUpstreamError()
    {
        var error = ErrorOf(AnthropicErrors.SseErrorData("nope"u8));

        Assert.Equal("upstream_error", error.GetProperty("code").GetString());
    }
}
