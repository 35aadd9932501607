using System.Text.Json;
using LlmProxy.Errors;

namespace LlmProxy.Providers.Anthropic;

/// <summary>
/// Anthropic's <c>{"type":"error","error":{"type","message"}}</c> as OpenAI's <c>{"error":{"message","type","param","code"}}</c>.
/// The status is kept except 529 (overloaded), which becomes 503 — the status OpenAI SDKs retry — with
/// <c>x-should-retry: true</c>.
/// </summary>
internal static class AnthropicErrors
{
    /// <summary>Translates an error response.</summary>
    public static AnthropicErrorResult Translate(int status, ReadOnlySpan<byte> body)
    {
        var clientStatus = status == 529 ? StatusCodes.Status503ServiceUnavailable : status;
        var retry = status is 408 or 409 or 429 or >= 500;
        var json = TryRead(body, out var type, out var message)
            ? ErrorJson(type, message)
            : ErrorWriter.Serialize($"The provider answered HTTP {status} with a body that is not an Anthropic error.",
                status >= 500 ? "server_error" : "invalid_request_error", null, "upstream_error");
        return new AnthropicErrorResult(clientStatus, json, retry);
    }

    /// <summary>The OpenAI error body for the data of a stream's <c>error</c> event (null when it is not one).</summary>
    public static byte[]? FromEvent(ReadOnlySpan<byte> data)
        => TryRead(data, out var type, out var message) ? ErrorJson(type, message) : null;

    private static byte[] ErrorJson(string type, string message)
    {
        var (openAIType, code) = type switch
        {
            "invalid_request_error" => ("invalid_request_error", null),
            "authentication_error" => ("authentication_error", "invalid_api_key"),
            "permission_error" => ("permission_error", null),
            "not_found_error" => ("invalid_request_error", message.Contains("model", StringComparison.OrdinalIgnoreCase) ? "model_not_found" : null),
            "request_too_large" => ("invalid_request_error", "request_too_large"),
            "rate_limit_error" => ("requests", "rate_limit_exceeded"),
            "overloaded_error" => ("server_error", "overloaded"),
            "timeout_error" => ("server_error", "timeout"),
            "billing_error" => ("insufficient_quota", "insufficient_quota"),
            _ => ("server_error", (string?)null),
        };
        return ErrorWriter.Serialize(message, openAIType, null, code);
    }

    private static bool TryRead(ReadOnlySpan<byte> body, out string type, out string message)
    {
        type = "";
        message = "";
        try
        {
            var reader = new Utf8JsonReader(body);
            using var document = JsonDocument.ParseValue(ref reader);
            if (document.RootElement.ValueKind != JsonValueKind.Object || !document.RootElement.TryGetProperty("error", out var error)
                || error.ValueKind != JsonValueKind.Object)
            {
                return false;
            }

            type = error.TryGetProperty("type", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString()! : "api_error";
            message = error.TryGetProperty("message", out var m) && m.ValueKind == JsonValueKind.String ? m.GetString()! : type;
            return true;
        }
        catch (JsonException)
        {
            return false;
        }
    }
}
