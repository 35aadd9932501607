using System.Globalization;
using LlmProxy.RateLimiting;
using LlmProxy.Routing;
using LlmProxy.Telemetry;
using LlmProxy.Usage;
using LlmProxy.Streaming;
using LlmProxy.StructuredOutput;
using Yarp.ReverseProxy.Transforms;

namespace LlmProxy.Providers;

/// <summary>
/// Incoming response: drops headers that identify the provider account or are named in the provider's
/// <c>Connection</c> header, and hands error responses to <see cref="UpstreamErrorRewriter"/>.
/// </summary>
internal sealed class ProviderResponseTransform : ResponseTransform
{
    /// <summary>Where the provider's own request id is passed on (the gateway's id takes <c>x-request-id</c>).</summary>
    public const string UpstreamRequestIdHeader = "x-upstream-request-id";

    /// <summary>Milliseconds the gateway spent before calling the provider.</summary>
    public const string OverheadHeader = "x-llmproxy-overhead-ms";

    private static readonly string[] AccountHeaders = ["openai-organization", "openai-project", "Set-Cookie"];

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

        var headers = context.HttpContext.Response.Headers;
        foreach (var name in AccountHeaders)
        {
            headers.Remove(name);
        }

        if (proxyResponse.Headers.NonValidated.TryGetValues("Connection", out var connection))
        {
            foreach (var value in connection)
            {
                // The common values name no header: skip the split.
                if (value.Equals("keep-alive", StringComparison.OrdinalIgnoreCase) || value.Equals("close", StringComparison.OrdinalIgnoreCase))
                {
                    continue;
                }

                foreach (var name in value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                {
                    headers.Remove(name);
                }
            }
        }

        var feature = context.HttpContext.Features.Get<LlmRequestFeature>();
        ReplaceRateLimitHeaders(headers, proxyResponse, feature);
        var status = (int)proxyResponse.StatusCode;
        var meter = context.HttpContext.Features.Get<RequestMeter>();
        KeepRequestIds(headers, proxyResponse, meter?.RequestId);
        if (meter is not null)
        {
            meter.UpstreamHeaders = _time.GetTimestamp();
            meter.UpstreamStatus = status;
            headers[OverheadHeader] = Math.Round(_time.GetElapsedTime(meter.Start, meter.UpstreamStart).TotalMilliseconds, 3).ToString(CultureInfo.InvariantCulture);
        }

        var mediaType = proxyResponse.Content.Headers.ContentType?.MediaType;
        if (status >= 400 && feature?.Target is { } target)
        {
            await UpstreamErrorRewriter.RewriteAsync(context, target);
        }
        else if (status < 300 && mediaType == "text/event-stream")
        {
            // The guard may drop the usage chunk or add an error event: the provider's length no longer holds.
            headers.ContentLength = null;
            proxyResponse.Content = new EventStreamGuard(proxyResponse.Content, context.HttpContext, meter, _time, StreamValidationOf(context.HttpContext, feature, meter));
        }
        else if (status < 300 && feature?.Output is { } expectation)
        {
            var services = context.HttpContext.RequestServices;
            await ValidatedJsonResponse.ApplyAsync(context, feature, expectation, meter, _time,
                services.GetRequiredService<LlmProxyMetrics>(), services.GetRequiredService<ILogger<ProviderResponseTransform>>());
        }
        else if (status < 300 && meter is not null)
        {
            proxyResponse.Content = new MeteredJsonContent(proxyResponse.Content, meter, _time);
        }
    }

    // A streamed chat answer whose request carried schemas is collected and validated as it passes.
    private static StreamValidation? StreamValidationOf(HttpContext http, LlmRequestFeature? feature, RequestMeter? meter)
    {
        if (feature?.Output is not { } expectation)
        {
            return null;
        }

        var services = http.RequestServices;
        return new StreamValidation(expectation, feature.Model?.Name ?? feature.Request.Model, meter?.RequestId ?? "-",
            services.GetRequiredService<LlmProxyMetrics>(), services.GetRequiredService<ILogger<StreamValidation>>());
    }

    // The client gets the gateway's id in x-request-id (set before forwarding; YARP appended the provider's);
    // the provider's id moves to x-upstream-request-id.
    private static void KeepRequestIds(IHeaderDictionary headers, HttpResponseMessage proxyResponse, string? requestId)
    {
        if (!proxyResponse.Headers.NonValidated.TryGetValues(MeteringMiddleware.RequestIdHeader, out var upstreamId))
        {
            return;
        }

        foreach (var value in upstreamId)
        {
            headers[UpstreamRequestIdHeader] = value;
            break;
        }

        var ours = headers[MeteringMiddleware.RequestIdHeader];
        headers[MeteringMiddleware.RequestIdHeader] = requestId ?? ours[0];
    }

    // When the gateway's own limits admitted the request, its x-ratelimit-* headers are the client's: the provider's
    // (which describe the gateway's provider account) are removed and the gateway's written again over whatever the
    // header copy appended. Without gateway limits the provider's pass through, as they did before limits existed.
    private static void ReplaceRateLimitHeaders(IHeaderDictionary headers, HttpResponseMessage proxyResponse, LlmRequestFeature? feature)
    {
        if (feature?.Limits is not { } limits)
        {
            return;
        }

        var found = false;
        foreach (var header in proxyResponse.Headers.NonValidated)
        {
            if (header.Key.StartsWith(RateLimitHeaders.Prefix, StringComparison.OrdinalIgnoreCase))
            {
                headers.Remove(header.Key);
                found = true;
            }
        }

        if (found)
        {
            RateLimitHeaders.Write(headers, limits.Plan, limits.Decision, limits.Divisor);
        }
    }
}
