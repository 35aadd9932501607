using System.Text.Json;
using LlmProxy.Errors;
using Microsoft.AspNetCore.Http;

namespace LlmProxy.Tests.Errors;

public sealed class ErrorWriterTests
{
    [Theory]
    [InlineData(LlmError.MissingApiKey, 401, "invalid_request_error", null)]
    [InlineData(LlmError.InvalidApiKey, 401, "invalid_request_error", "invalid_api_key")]
    [InlineData(LlmError.InvalidJson, 400, "invalid_request_error", null)]
    [InlineData(LlmError.ModelNotFound, 404, "invalid_request_error", "model_not_found")]
    [InlineData(LlmError.RequestTooLarge, 413, "invalid_request_error", "request_too_large")]
    [InlineData(LlmError.UpstreamUnreachable, 502, "server_error", "upstream_unreachable")]
    [InlineData(LlmError.UpstreamTimeout, 504, "server_error", "upstream_timeout")]
    [InlineData(LlmError.UpstreamAuth, 502, "server_error", "upstream_auth_error")]
    public async Task WriteAsync_Error_WritesStatusAndAllFourKeys(LlmError kind, int status, string type, string? code)
    {
        var context = new DefaultHttpContext();
        context.Response.Body = new MemoryStream();

        await ErrorWriter.WriteAsync(context, kind, "it's <bad>");

        Assert.Equal(status, context.Response.StatusCode);
        Assert.Equal("application/json", context.Response.ContentType);
        var body = ((MemoryStream)context.Response.Body).ToArray();
        Assert.Equal(body.Length, context.Response.ContentLength);
        var error = JsonDocument.Parse(body).RootElement.GetProperty("error");
        Assert.Equal(["message", "type", "param", "code"], error.EnumerateObject().Select(p => p.Name));
        Assert.Equal("it's <bad>", error.GetProperty("message").GetString());
        Assert.Equal(type, error.GetProperty("type").GetString());
        Assert.Equal(JsonValueKind.Null, error.GetProperty("param").ValueKind);
        Assert.Equal(code, error.GetProperty("code").ValueKind == JsonValueKind.Null ? null : error.GetProperty("code").GetString());
    }

    [Fact]
    public void StatusOf_EveryError_IsAClientOrGatewayStatusNever500()
    {
        foreach (var kind in Enum.GetValues<LlmError>())
        {
            Assert.NotEqual(500, ErrorWriter.StatusOf(kind));
        }
    }
}
