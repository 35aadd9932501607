using System.Text.Json;
using LlmProxy.Configuration;
using LlmProxy.Errors;
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

    /// <summary>Writes the client's error response and suppresses YARP's copy of the provider body.</summary>
    public static async ValueTask RewriteAsync(ResponseTransformContext context, ModelTarget target)
    {
        var http = context.HttpContext;
        var proxyResponse = context.ProxyResponse!;
        var status = (int)proxyResponse.StatusCode;
        context.SuppressResponseBody = true;
        http.Response.Headers.Remove(HeaderNames.ContentLength);

        if (status == StatusCodes.Status401Unauthorized)
        {
            // Retrying cannot fix the gateway's credential: tell the SDKs that read it not to.
            http.Response.Headers["x-should-retry"] = "false";
            await ErrorWriter.WriteAsync(http, LlmError.UpstreamAuth,
                $"The provider '{target.Provider.Name}' rejected the gateway's credential (HTTP 401). This is a gateway configuration problem, not a problem with your key.");
            return;
        }

        var body = await ReadBodyAsync(proxyResponse.Content, MaxErrorBodyBytes, context.CancellationToken);
        var translator = target.Provider.Translator;
        if (!translator.IsIdentity)
        {
            // A provider with its own error shape: the client gets OpenAI's, with the status OpenAI would send (an
            // unreadable body too: a 529 must reach OpenAI SDKs as the 503 they retry).
            var error = translator.TranslateError(status, body ?? []);
            http.Response.StatusCode = error.Status;
            if (error.ShouldRetry is { } retry)
            {
                http.Response.Headers["x-should-retry"] = retry ? "true" : "false";
            }

            body = error.Body;
        }

        if (body is null || !IsOpenAIError(body))
        {
            await ErrorWriter.WriteAsync(http, status, LlmError.UpstreamError,
                $"The provider '{target.Provider.Name}' answered HTTP {status} with a body that is not an OpenAI error.");
            return;
        }

        http.Response.ContentType = "application/json";
        http.Response.ContentLength = body.Length;
        await http.Response.Body.WriteAsync(body, context.CancellationToken);
    }

    /// <summary>True for a JSON object with an <c>error</c> object or string.</summary>
    internal static bool IsOpenAIError(byte[] body)
    {
        try
        {
            using var document = JsonDocument.Parse(body);
            return document.RootElement.ValueKind == JsonValueKind.Object
                && document.RootElement.TryGetProperty("error", out var error)
                && error.ValueKind is JsonValueKind.Object or JsonValueKind.String;
        }
        catch (JsonException)
        {
            return false;
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
