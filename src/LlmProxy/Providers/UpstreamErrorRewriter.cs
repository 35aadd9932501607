using System.Text.Json;
using LlmProxy.Configuration;
using LlmProxy.Errors;
using LlmProxy.Failover;
using LlmProxy.Hosting;
using Microsoft.Net.Http.Headers;
using Yarp.ReverseProxy.Transforms;

namespace LlmProxy.Providers;

/// <summary>
/// Provider error responses. A 401 means the gateway's own credential was refused: the client gets a
/// 502 <c>upstream_auth_error</c> with <c>x-should-retry: false</c> (its virtual key is fine) and never the
/// provider's body, which echoes a masked key. (A 403 is usually about the model or region, not the key, so
/// it passes through like other errors.) Other OpenAI-shaped errors pass through with status and body unchanged (the body
/// arrives decoded and with the provider's key redacted: see <see cref="ProviderContent"/>); a provider with its own error
/// shape (Anthropic) has its error translated by its translator first (status included: 529 becomes 503). Bodies that are not
/// OpenAI-shaped (an HTML 502 page) become an OpenAI-shaped error with the provider's status.
/// </summary>
internal static class UpstreamErrorRewriter
{
    /// <summary>Largest provider error body read; longer bodies are treated as not OpenAI-shaped.</summary>
    public const int MaxErrorBodyBytes = 256 * 1024;

    /// <summary>
    /// Reads the provider's error and suppresses YARP's copy of its body. The client gets the error at once, unless
    /// the attempt loop may try again (<see cref="LlmRequestFeature.HoldFailure"/>): then it is kept on the request
    /// for the loop, which sends it only when no other attempt will answer.
    /// </summary>
    public static async ValueTask RewriteAsync(ResponseTransformContext context, ModelTarget target, LlmRequestFeature feature, TimeProvider time)
    {
        context.SuppressResponseBody = true;
        context.HttpContext.Response.Headers.Remove(HeaderNames.ContentLength);
        var failure = await ReadAsync(context, target, time);
        if (feature.HoldFailure)
        {
            feature.Failure = failure;
            return;
        }

        await WriteAsync(context.HttpContext, failure);
    }

    /// <summary>Sends a provider's error to the client (headers the provider sent, such as <c>retry-after</c>, are already on the response).</summary>
    public static Task WriteAsync(HttpContext http, UpstreamFailure failure)
    {
        if (failure.GatewayError is { } error && http.Features.Get<LlmRequestFeature>() is { } request)
        {
            request.GatewayError ??= error;
        }

        var response = http.Response;
        if (response.HasStarted)
        {
            return Task.CompletedTask;
        }

        response.StatusCode = failure.Status;
        if (failure.ShouldRetry is { } retry)
        {
            response.Headers["x-should-retry"] = retry ? "true" : "false";
        }

        response.ContentType = "application/json";
        response.ContentLength = failure.Body.Length;
        return response.Body.WriteAsync(failure.Body, 0, failure.Body.Length, http.RequestAborted);
    }

    private static async ValueTask<UpstreamFailure> ReadAsync(ResponseTransformContext context, ModelTarget target, TimeProvider time)
    {
        var proxyResponse = context.ProxyResponse!;
        var status = (int)proxyResponse.StatusCode;
        var retryAfter = RetryAfter.Of(proxyResponse, time.GetUtcNow());
        if (status == StatusCodes.Status401Unauthorized)
        {
            // Retrying cannot fix the gateway's credential: tell the SDKs that read it not to.
            return Gateway(StatusCodes.Status502BadGateway, LlmError.UpstreamAuth, status, retryAfter, shouldRetry: false,
                $"The provider '{target.Provider.Name}' rejected the gateway's credential (HTTP 401). This is a gateway configuration problem, not a problem with your key.");
        }

        var body = await ReadBodyAsync(proxyResponse.Content, MaxErrorBodyBytes, context.CancellationToken);
        var clientStatus = status;
        bool? shouldRetry = null;
        var translator = target.Provider.Translator;
        if (!translator.IsIdentity)
        {
            // A provider with its own error shape: the client gets OpenAI's, with the status OpenAI would send (an
            // unreadable body too: a 529 must reach OpenAI SDKs as the 503 they retry).
            var error = translator.TranslateError(status, body ?? []);
            clientStatus = error.Status;
            shouldRetry = error.ShouldRetry;
            body = error.Body;
        }

        if (body is null || CodeOf(body) is not { } code)
        {
            return Gateway(clientStatus, LlmError.UpstreamError, status, retryAfter, shouldRetry,
                $"The provider '{target.Provider.Name}' answered HTTP {status} with a body that is not an OpenAI error.");
        }

        if (code.Length == 0 && status == StatusCodes.Status400BadRequest && SaysContextTooLong(body))
        {
            // Providers without OpenAI's code (Anthropic's "prompt is too long", vLLM's "maximum context length") mean the
            // same: a context-window fallback can take it. The client's body is unchanged.
            code = "context_length_exceeded";
        }

        return new UpstreamFailure(clientStatus, body, status, code.Length == 0 ? null : code, retryAfter, shouldRetry, null);
    }

    private static UpstreamFailure Gateway(int status, LlmError error, int providerStatus, TimeSpan? retryAfter, bool? shouldRetry, string message)
    {
        var type = error == LlmError.UpstreamError && status < 500 ? "invalid_request_error" : ErrorWriter.TypeOf(error);
        return new UpstreamFailure(status, ErrorWriter.Serialize(message, type, null, ErrorWriter.CodeOf(error)), providerStatus, ErrorWriter.CodeOf(error),
            retryAfter, shouldRetry, error);
    }

    /// <summary>True for a JSON object with an <c>error</c> object or string.</summary>
    internal static bool IsOpenAIError(byte[] body) => CodeOf(body) is not null;

    private static bool SaysContextTooLong(byte[] body)
    {
        var text = System.Text.Encoding.UTF8.GetString(body);
        return text.Contains("maximum context length", StringComparison.OrdinalIgnoreCase)
            || text.Contains("prompt is too long", StringComparison.OrdinalIgnoreCase)
            || text.Contains("context window", StringComparison.OrdinalIgnoreCase)
            || text.Contains("context length", StringComparison.OrdinalIgnoreCase);
    }

    // The error's code ("" when it has none) when the body is a JSON object with an error object or string; else null.
    private static string? CodeOf(byte[] body)
    {
        try
        {
            using var document = JsonDocument.Parse(body);
            if (document.RootElement.ValueKind != JsonValueKind.Object || !document.RootElement.TryGetProperty("error", out var error))
            {
                return null;
            }

            return error.ValueKind switch
            {
                JsonValueKind.Object => error.TryGetProperty("code", out var code) && code.ValueKind == JsonValueKind.String ? code.GetString() ?? "" : "",
                JsonValueKind.String => "",
                _ => null,
            };
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException)
        {
            return null;
        }
    }

    /// <summary>The whole body, or null when it is larger than <paramref name="limit"/> or cannot be read.</summary>
    internal static async Task<byte[]?> ReadBodyAsync(HttpContent content, int limit, CancellationToken cancellationToken)
    {
        try
        {
            await using var stream = await content.ReadAsStreamAsync(cancellationToken);
            using var buffer = new MemoryStream();
            var chunk = new byte[8192];
            int read;
            while ((read = await stream.ReadAsync(chunk, cancellationToken)) > 0)
            {
                if (buffer.Length + read > limit)
                {
                    return null;
                }

                buffer.Write(chunk, 0, read);
            }

            return buffer.ToArray();
        }
        catch (Exception ex) when (ex is IOException or HttpRequestException or InvalidDataException)
        {
            return null;
        }
    }
}
