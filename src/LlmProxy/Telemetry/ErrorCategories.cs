using LlmProxy.Errors;

namespace LlmProxy.Telemetry;

/// <summary>Names and mappings of <see cref="ErrorCategory"/>.</summary>
public static class ErrorCategories
{
    private static readonly string[] Names =
    [
        "none", "auth", "bad_request", "not_found", "too_large", "rate_limited", "upstream_rate_limited", "upstream_error",
        "upstream_timeout", "upstream_unreachable", "validation_failed", "client_cancelled", "internal",
    ];

    /// <summary>The label value (snake_case).</summary>
    public static string Name(this ErrorCategory category) => Names[(int)category];

    /// <summary>The category of an error the gateway wrote itself.</summary>
    public static ErrorCategory Of(LlmError error) => error switch
    {
        LlmError.MissingApiKey or LlmError.InvalidApiKey => ErrorCategory.Auth,
        LlmError.InvalidJson or LlmError.InvalidRequest => ErrorCategory.BadRequest,
        LlmError.ModelNotFound or LlmError.UnknownPath => ErrorCategory.NotFound,
        LlmError.RequestTooLarge => ErrorCategory.TooLarge,
        LlmError.UpstreamTimeout => ErrorCategory.UpstreamTimeout,
        LlmError.UpstreamUnreachable or LlmError.NoAvailableTarget => ErrorCategory.UpstreamUnreachable,
        LlmError.UpstreamError or LlmError.UpstreamAuth => ErrorCategory.UpstreamError,
        LlmError.RequestsRateLimited or LlmError.TokensRateLimited or LlmError.RateLimitUnavailable => ErrorCategory.RateLimited,
        LlmError.StructuredOutputInvalid => ErrorCategory.ValidationFailed,
        _ => ErrorCategory.Internal,
    };

    /// <summary>The category of a YARP forwarding failure (including ones after the response started).</summary>
    public static ErrorCategory OfForwarder(Yarp.ReverseProxy.Forwarder.ForwarderError error) => error switch
    {
        Yarp.ReverseProxy.Forwarder.ForwarderError.RequestTimedOut => ErrorCategory.UpstreamTimeout,
        Yarp.ReverseProxy.Forwarder.ForwarderError.RequestCanceled or Yarp.ReverseProxy.Forwarder.ForwarderError.RequestBodyCanceled
            or Yarp.ReverseProxy.Forwarder.ForwarderError.RequestBodyClient or Yarp.ReverseProxy.Forwarder.ForwarderError.ResponseBodyCanceled
            or Yarp.ReverseProxy.Forwarder.ForwarderError.ResponseBodyClient => ErrorCategory.ClientCancelled,
        _ => ErrorCategory.UpstreamUnreachable,
    };

    /// <summary>The category of a status the provider sent.</summary>
    public static ErrorCategory OfUpstreamStatus(int status) => status switch
    {
        < 400 => ErrorCategory.None,
        429 => ErrorCategory.UpstreamRateLimited,
        _ => ErrorCategory.UpstreamError,
    };
}
