using System.Text.Json;
using LlmProxy.Hosting;
using Microsoft.Net.Http.Headers;

namespace LlmProxy.Errors;

/// <summary>
/// The one writer of gateway errors: <c>{"error":{"message","type","param","code"}}</c> with all four keys,
/// as OpenAI's API and SDKs expect.
/// </summary>
public static class ErrorWriter
{
    /// <summary>The HTTP status the error is sent with.</summary>
    public static int StatusOf(LlmError error) => error switch
    {
        LlmError.MissingApiKey or LlmError.InvalidApiKey => StatusCodes.Status401Unauthorized,
        LlmError.InvalidJson or LlmError.InvalidRequest => StatusCodes.Status400BadRequest,
        LlmError.ModelNotFound or LlmError.UnknownPath => StatusCodes.Status404NotFound,
        LlmError.RequestTooLarge => StatusCodes.Status413PayloadTooLarge,
        LlmError.UpstreamUnreachable or LlmError.UpstreamAuth or LlmError.UpstreamError => StatusCodes.Status502BadGateway,
        LlmError.UpstreamTimeout => StatusCodes.Status504GatewayTimeout,
        LlmError.NoAvailableTarget or LlmError.RateLimitUnavailable => StatusCodes.Status503ServiceUnavailable,
        LlmError.RequestsRateLimited or LlmError.TokensRateLimited => StatusCodes.Status429TooManyRequests,
        LlmError.StructuredOutputInvalid => StatusCodes.Status422UnprocessableEntity,
        _ => StatusCodes.Status500InternalServerError,
    };

    /// <summary>The OpenAI error <c>type</c>.</summary>
    public static string TypeOf(LlmError error) => error switch
    {
        LlmError.UpstreamUnreachable or LlmError.UpstreamTimeout or LlmError.UpstreamError
            or LlmError.UpstreamAuth or LlmError.NoAvailableTarget or LlmError.RateLimitUnavailable => "server_error",
        LlmError.RequestsRateLimited => "requests",
        LlmError.TokensRateLimited => "tokens",
        LlmError.StructuredOutputInvalid => "invalid_response_error",
        _ => "invalid_request_error",
    };

    /// <summary>The OpenAI error <c>code</c>, or null where OpenAI sends null.</summary>
    public static string? CodeOf(LlmError error) => error switch
    {
        LlmError.InvalidApiKey => "invalid_api_key",
        LlmError.ModelNotFound => "model_not_found",
        LlmError.RequestTooLarge => "request_too_large",
        LlmError.UpstreamUnreachable => "upstream_unreachable",
        LlmError.UpstreamTimeout => "upstream_timeout",
        LlmError.UpstreamError => "upstream_error",
        LlmError.UpstreamAuth => "upstream_auth_error",
        LlmError.NoAvailableTarget => "no_available_target",
        LlmError.RequestsRateLimited or LlmError.TokensRateLimited => "rate_limit_exceeded",
        LlmError.RateLimitUnavailable => "rate_limit_unavailable",
        LlmError.StructuredOutputInvalid => "structured_output_invalid",
        _ => null,
    };

    /// <summary>Writes the error with its own status. Does nothing when the response has already started.</summary>
    public static Task WriteAsync(HttpContext context, LlmError error, string message, string? param = null)
        => WriteAsync(context, StatusOf(error), error, message, param);

    /// <summary>Writes the error with an explicit status (used to keep a provider's status).</summary>
    public static Task WriteAsync(HttpContext context, int status, LlmError error, string message, string? param = null)
    {
        if (context.Features.Get<LlmRequestFeature>() is { } request)
        {
            request.GatewayError ??= error;
        }

        var response = context.Response;
        if (response.HasStarted)
        {
            return Task.CompletedTask;
        }

        response.StatusCode = status;
        response.Headers.ContentType = "application/json";
        response.Headers.Remove(HeaderNames.ContentLength);
        // A provider's 4xx keeps its status; its type then says the request was refused, not that a server failed.
        var type = error == LlmError.UpstreamError && status < 500 ? "invalid_request_error" : TypeOf(error);
        var body = Serialize(message, type, param, CodeOf(error));
        response.ContentLength = body.Length;
        return response.Body.WriteAsync(body, 0, body.Length, context.RequestAborted);
    }

    /// <summary>Serializes an OpenAI-shaped error body.</summary>
    public static byte[] Serialize(string message, string type, string? param, string? code)
    {
        using var stream = new MemoryStream(128 + message.Length);
        using (var writer = new Utf8JsonWriter(stream, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            writer.WriteStartObject();
            writer.WriteStartObject("error");
            writer.WriteString("message", message);
            writer.WriteString("type", type);
            WriteNullable(writer, "param", param);
            WriteNullable(writer, "code", code);
            writer.WriteEndObject();
            writer.WriteEndObject();
        }

        return stream.ToArray();
    }

    private static void WriteNullable(Utf8JsonWriter writer, string name, string? value)
    {
        if (value is null)
        {
            writer.WriteNull(name);
        }
        else
        {
            writer.WriteString(name, value);
        }
    }
}
