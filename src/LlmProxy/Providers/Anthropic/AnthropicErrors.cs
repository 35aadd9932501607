using System.Text.Json;
using LlmProxy.Errors;

namespace LlmProxy.Providers.Anthropic;

/// <summary>
/// Anthropic errors (<c>{"type":"error","error":{"type","message"},"request_id"}</c>) as OpenAI errors
/// (<c>{"error":{"message","type","param","code"}}</c>), for error responses and for <c>error</c> stream events.
/// </summary>
internal static class AnthropicErrors
{
    /// <summary>Anthropic's "overloaded" status, which OpenAI clients do not know; sent as 503.</summary>
    public const int OverloadedStatus = 529;

    /// <summary>Translates an error response of status <paramref name="status"/>.</summary>
    public static AnthropicErrorResult Translate(int status, ReadOnlySpan<byte> body)
    {
        var sentStatus = status == OverloadedStatus ? StatusCodes.Status503ServiceUnavailable : status;
        var retry = status is 408 or 409 or 429 or OverloadedStatus || status >= 500;
        if (Parse(body) is not var (type, message))
        {
            var fallback = ErrorWriter.Serialize(
                $"The provider answered HTTP {status} with a body that is not an Anthropic error.",
                status >= 500 ? "server_error" : "invalid_request_error", null, "upstream_error");
            return new AnthropicErrorResult(sentStatus, fallback, retry);
        }

        var (openAIType, code) = Map(type, message, status);
        return new AnthropicErrorResult(sentStatus, ErrorWriter.Serialize(message, openAIType, null, code), retry || type == "overloaded_error");
    }

    /// <summary>
    /// The OpenAI error JSON (no SSE framing) for the data of an Anthropic <c>error</c> stream event; data that is
    /// not an Anthropic error gives a generic <c>server_error</c>/<c>upstream_error</c>.
    /// </summary>
    public static byte[] SseErrorData(ReadOnlySpan<byte> errorEventData)
    {
        if (Parse(errorEventData) is not var (type, message))
        {
            return ErrorWriter.Serialize("The provider sent a stream error that is not an Anthropic error.", "server_error", null, "upstream_error");
        }

        var (openAIType, code) = Map(type, message, 500);
        return ErrorWriter.Serialize(message, openAIType, null, code);
    }

    /// <summary>
    /// Anthropic error type → OpenAI (type, code). An unknown type is a <c>server_error</c> for 5xx statuses and an
    /// <c>invalid_request_error</c> otherwise, without code.
    /// </summary>
    public static (string Type, string? Code) Map(string anthropicType, string message, int status) => anthropicType switch
    {
        "invalid_request_error" => ("invalid_request_error", null),
        "authentication_error" => ("authentication_error", "invalid_api_key"),
        "permission_error" => ("permission_error", null),
        "not_found_error" => ("invalid_request_error", message.Contains("model", StringComparison.OrdinalIgnoreCase) ? "model_not_found" : null),
        "request_too_large" => ("invalid_request_error", "request_too_large"),
        "rate_limit_error" => ("requests", "rate_limit_exceeded"),
        "api_error" => ("server_error", null),
        "overloaded_error" => ("server_error", "overloaded"),
        "timeout_error" => ("server_error", "timeout"),
        "billing_error" => ("insufficient_quota", "insufficient_quota"),
        _ => (status >= 500 ? "server_error" : "invalid_request_error", null),
    };

    /// <summary>The error type and message of an Anthropic error body, or null when it is not one (or cannot be decoded).</summary>
    private static (string Type, string Message)? Parse(ReadOnlySpan<byte> body)
    {
        try
        {
            var reader = new Utf8JsonReader(body);
            using var document = JsonDocument.ParseValue(ref reader);
            var root = document.RootElement;
            if (AnthropicResponse.StringOf(root, "type") != "error" || !root.TryGetProperty("error", out var error)
                || AnthropicResponse.StringOf(error, "type") is not { } type)
            {
                return null;
            }

            return (type, AnthropicResponse.StringOf(error, "message") ?? type);
        }
        catch (Exception ex) when (ex is JsonException || AnthropicJson.IsUndecodable(ex))
        {
            return null;
        }
    }
}
