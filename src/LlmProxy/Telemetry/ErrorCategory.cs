namespace LlmProxy.Telemetry;

/// <summary>The one closed set of error causes, used as the <c>error.type</c> label in metrics, logs and traces.</summary>
public enum ErrorCategory
{
    /// <summary>No error.</summary>
    None,

    /// <summary>Missing or unknown virtual key.</summary>
    Auth,

    /// <summary>Malformed or invalid request.</summary>
    BadRequest,

    /// <summary>Unknown path or model.</summary>
    NotFound,

    /// <summary>Body over the limit.</summary>
    TooLarge,

    /// <summary>Refused by the gateway's own limits.</summary>
    RateLimited,

    /// <summary>The provider answered 429.</summary>
    UpstreamRateLimited,

    /// <summary>The provider answered another error status, or refused the gateway's credential.</summary>
    UpstreamError,

    /// <summary>The provider did not answer in time (or stalled mid-stream).</summary>
    UpstreamTimeout,

    /// <summary>The provider could not be reached (or dropped the connection mid-stream).</summary>
    UpstreamUnreachable,

    /// <summary>The answer failed the request's schema.</summary>
    ValidationFailed,

    /// <summary>The client went away before the answer was complete.</summary>
    ClientCancelled,

    /// <summary>A gateway fault.</summary>
    Internal,
}
