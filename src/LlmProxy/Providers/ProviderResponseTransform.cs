using System.Collections.Frozen;
using System.Globalization;
using LlmProxy.Errors;
using LlmProxy.Hosting;
using LlmProxy.RateLimiting;
using LlmProxy.Routing;
using LlmProxy.Telemetry;
using LlmProxy.Usage;
using LlmProxy.Streaming;
using LlmProxy.StructuredOutput;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Net.Http.Headers;
using Yarp.ReverseProxy.Transforms;

namespace LlmProxy.Providers;

/// <summary>
/// Incoming response. YARP copies no provider header (the transform builder turns that off): the client gets only what
/// <see cref="IsForwarded"/> allows — content type and length, the provider's ids, rate-limit and retry headers and
/// processing time — with the provider's credential redacted from their values and from the body (see
/// <see cref="ProviderContent"/>). Then the target's translator turns a provider's own shape into OpenAI's (identity for
/// OpenAI-shaped providers), and error responses go to <see cref="UpstreamErrorRewriter"/>, streams to the SSE guard, and
/// JSON answers to validation or metering.
/// </summary>
internal sealed class ProviderResponseTransform : ResponseTransform
{
    /// <summary>Where the provider's own request id is passed on (the gateway's id takes <c>x-request-id</c>).</summary>
    public const string UpstreamRequestIdHeader = "x-upstream-request-id";

    /// <summary>Milliseconds the gateway spent before calling the provider.</summary>
    public const string OverheadHeader = "x-llmproxy-overhead-ms";

    // Headers a client can use: ids, retry advice and processing time. Everything else a provider sends (Set-Cookie,
    // openai-organization/-project, Server, Via, CDN and tracing headers, anything custom) stays with the gateway.
    private static readonly FrozenSet<string> ForwardedNames = new[]
    {
        "openai-processing-ms", "openai-version", "retry-after", "retry-after-ms", "x-should-retry", "request-id", "apim-request-id",
    }.ToFrozenSet(StringComparer.OrdinalIgnoreCase);

    /// <summary>Largest non-streamed answer read for translation (a larger one is a 502).</summary>
    public const int MaxTranslatedAnswerBytes = 32 * 1024 * 1024;

    private readonly TimeProvider _time;

    public ProviderResponseTransform(TimeProvider time) => _time = time;

    /// <inheritdoc/>
    public override async ValueTask ApplyAsync(ResponseTransformContext context)
    {
        var proxyResponse = context.ProxyResponse;
        if (proxyResponse is null)
        {
            return;
        }

        var http = context.HttpContext;
        // The authentication stage gives every request of the LLM route its state; nothing else is proxied.
        if (http.Features.Get<LlmRequestFeature>() is not { } feature)
        {
            return;
        }

        var redactor = feature.Target?.Provider.Redactor;

        // YARP copied the provider's reason phrase, which is free text like any header value: the status code's own is sent.
        if (http.Features.Get<IHttpResponseFeature>() is { } response)
        {
            response.ReasonPhrase = null;
        }

        var encodings = proxyResponse.Content.Headers.NonValidated.TryGetValues(HeaderNames.ContentEncoding, out var encoding)
            ? ProviderContent.Codings(encoding) : [];
        if (encodings is null)
        {
            // A coding the gateway cannot decode: the body can be neither read nor redacted, so it does not go out.
            context.SuppressResponseBody = true;
            feature.UpstreamStatus = (int)proxyResponse.StatusCode;

            await ErrorWriter.WriteAsync(http, LlmError.UpstreamError,
                $"The provider answered in a content encoding the gateway cannot read ({ErrorText.Clip(encoding.ToString())}).");
            return;
        }

        // Read before the body is wrapped: the wrapper has no headers of its own.
        var mediaType = proxyResponse.Content.Headers.ContentType?.MediaType;
        var headers = http.Response.Headers;
        CopyForwardedHeaders(proxyResponse, headers, redactor, gatewayLimits: feature.Limits is not null, decoded: encodings.Length > 0);
        if (redactor is not null || encodings.Length > 0)
        {
            proxyResponse.Content = new ProviderContent(proxyResponse.Content, redactor, encodings);
        }

        var status = (int)proxyResponse.StatusCode;
        feature.UpstreamStatus = status;
        // Always: the attempt loop's first-byte timer reads it.
        feature.UpstreamHeaders = _time.GetTimestamp();
        if (feature.Metered)
        {
            headers[OverheadHeader] = Math.Round(_time.GetElapsedTime(feature.Start, feature.UpstreamStart).TotalMilliseconds, 3).ToString(CultureInfo.InvariantCulture);
        }

        // Everything after this sees OpenAI-shaped answers: a provider with another shape has its answer translated first.
        var translator = feature.Target?.Provider.Translator;
        var translated = translator is { IsIdentity: false };
        if (status >= 400 && feature.Target is { } target)
        {
            await UpstreamErrorRewriter.RewriteAsync(context, target, feature, _time);
            return;
        }

        if (status >= 300)
        {
            return;
        }

        if (mediaType == "text/event-stream")
        {
            // The guard may drop the usage chunk or add an error event: the provider's length no longer holds.
            headers.ContentLength = null;
            if (translated)
            {
                var usageChunk = feature.Metered || feature.Request.StreamOptions == StreamOptions.IncludeUsage;
                proxyResponse.Content = new TranslatedStreamContent(proxyResponse.Content, translator!, feature, _time.GetUtcNow().ToUnixTimeSeconds(), usageChunk);
            }

            proxyResponse.Content = new EventStreamGuard(proxyResponse.Content, http, StreamObservers(http, feature),
                endsWithDone: feature.OperationPath is "/chat/completions" or "/completions", _time);
            return;
        }

        if (translated && !await TranslateAnswerAsync(context, translator!, feature))
        {
            return;
        }

        if (feature.Output is { } expectation)
        {
            var services = context.HttpContext.RequestServices;
            await ValidatedJsonResponse.ApplyAsync(context, feature, expectation, _time,
                services.GetRequiredService<LlmProxyMetrics>(), services.GetRequiredService<ILogger<ProviderResponseTransform>>());
        }
        else if (feature.Metered)
        {
            proxyResponse.Content = new MeteredJsonContent(proxyResponse.Content, feature, _time);
        }
    }

    // A non-streamed answer of a provider with another shape: read whole, translated, and sent on as OpenAI JSON. An
    // answer that cannot be translated (or is too large to read) is a 502 and never reaches the client as it was.
    private async ValueTask<bool> TranslateAnswerAsync(ResponseTransformContext context, IProviderTranslator translator, LlmRequestFeature feature)
    {
        var proxyResponse = context.ProxyResponse!;
        var body = await UpstreamErrorRewriter.ReadBodyAsync(proxyResponse.Content, MaxTranslatedAnswerBytes, context.CancellationToken);
        if ((body is null ? null : translator.TranslateResponse(body, feature, _time.GetUtcNow().ToUnixTimeSeconds())) is not { } translated)
        {
            context.SuppressResponseBody = true;
            await ErrorWriter.WriteAsync(context.HttpContext, LlmError.UpstreamError,
                $"The provider '{ErrorText.Clip(feature.Target!.Provider.Name)}' sent an answer the gateway cannot read.");
            return false;
        }

        // The translator read the provider's own usage: it is the request's (metering reads the OpenAI body as well).
        if (feature.Metered && translated.Usage is { } usage)
        {
            feature.SetUsage(usage.Input, usage.Output, usage.CachedInput, usage.Reasoning);
        }

        var answer = translated.Body;
        proxyResponse.Content.Dispose();
        proxyResponse.Content = new ByteArrayContent(answer);
        context.HttpContext.Response.ContentType = "application/json";
        context.HttpContext.Response.ContentLength = answer.Length;
        return true;
    }

    /// <summary>
    /// Whether a provider header reaches the client. The provider's rate-limit headers (<c>x-ratelimit-*</c>,
    /// <c>anthropic-ratelimit-*</c>) describe the gateway's provider account: they pass only when no gateway limit
    /// applies (otherwise the gateway's own, set at admission, stand).
    /// </summary>
    internal static bool IsForwarded(string name, bool gatewayLimits)
        => ForwardedNames.Contains(name)
            || (!gatewayLimits && (name.StartsWith(RateLimitHeaders.Prefix, StringComparison.OrdinalIgnoreCase)
                || name.StartsWith("anthropic-ratelimit-", StringComparison.OrdinalIgnoreCase)));

    private static void CopyForwardedHeaders(HttpResponseMessage proxyResponse, IHeaderDictionary headers, CredentialRedactor? redactor, bool gatewayLimits, bool decoded)
    {
        var connection = proxyResponse.Headers.NonValidated.TryGetValues(HeaderNames.Connection, out var listed) ? listed.ToString() : null;
        foreach (var header in proxyResponse.Headers.NonValidated)
        {
            var name = header.Key;
            var isRequestId = name.Equals(MeteringMiddleware.RequestIdHeader, StringComparison.OrdinalIgnoreCase);
            if ((!isRequestId && !IsForwarded(name, gatewayLimits)) || (connection is not null && HopByHop.IsNamed(connection, name))
                || (redactor is not null && !ReferenceEquals(redactor.Redact(name), name)))
            {
                // Not for the client, or a name (x-ratelimit-<anything>) that carries the credential itself.
                continue;
            }

            var value = header.Value.ToString();
            var redacted = redactor is null ? value : redactor.Redact(value);
            // The client's x-request-id is the gateway's (set by the metering stage); the provider's moves aside.
            headers[isRequestId ? UpstreamRequestIdHeader : name] = redacted;
        }

        var content = proxyResponse.Content.Headers;
        if (content.NonValidated.TryGetValues(HeaderNames.ContentType, out var type))
        {
            headers.ContentType = redactor is null ? type.ToString() : redactor.Redact(type.ToString());
        }

        // A decoded body has another length; a redacted one keeps its length.
        if (!decoded && content.ContentLength is { } length)
        {
            headers.ContentLength = length;
        }
    }

    // What watches a stream: the meter, then — for a chat answer whose request carried schemas — validation.
    private IStreamObserver[] StreamObservers(HttpContext http, LlmRequestFeature feature)
    {
        IStreamObserver? usage = feature.Metered ? new StreamUsageObserver(feature, _time, http.RequestServices.GetService<LlmProxyMetrics>()) : null;
        if (feature.Output is not { } expectation)
        {
            return usage is null ? [] : [usage];
        }

        var services = http.RequestServices;
        var validation = new StreamValidation(expectation, feature.Model?.Name ?? feature.Request.Model, feature.RequestId,
            services.GetRequiredService<LlmProxyMetrics>(), services.GetRequiredService<ILogger<StreamValidation>>(), feature.AnswersAsked);
        var observer = new StreamValidationObserver(validation, http, feature);
        return usage is null ? [observer] : [usage, observer];
    }
}
