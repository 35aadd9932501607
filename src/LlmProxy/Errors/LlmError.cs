namespace LlmProxy.Errors;

/// <summary>
/// Every error the gateway itself produces. Each value maps to one HTTP status, one OpenAI error type and code
/// (see <see cref="ErrorWriter"/>), and its name is the low-cardinality label used in logs and metrics.
/// </summary>
public enum LlmError
{
    /// <summary>No key in Authorization or api-key.</summary>
    MissingApiKey,

    /// <summary>A key that matches no configured virtual key.</summary>
    InvalidApiKey,

    /// <summary>The body is not valid JSON or is not a JSON object.</summary>
    InvalidJson,

    /// <summary>A field the gateway reads has a missing or wrong value (for example <c>model</c> or <c>stream</c>).</summary>
    InvalidRequest,

    /// <summary>The model does not exist or the key may not use it (OpenAI answers both the same way).</summary>
    ModelNotFound,

    /// <summary>The body is larger than the configured limit.</summary>
    RequestTooLarge,

    /// <summary>No endpoint for this method and path.</summary>
    UnknownPath,

    /// <summary>The provider could not be reached (connect or send failure).</summary>
    UpstreamUnreachable,

    /// <summary>The provider did not answer within the timeout.</summary>
    UpstreamTimeout,

    /// <summary>The provider answered with an error body that is not OpenAI-shaped.</summary>
    UpstreamError,

    /// <summary>The provider rejected the gateway's own credential (401/403 upstream).</summary>
    UpstreamAuth,

    /// <summary>No target of the model is available.</summary>
    NoAvailableTarget,

    /// <summary>A request or concurrency limit of the gateway refused the request (429, type <c>requests</c>).</summary>
    RequestsRateLimited,

    /// <summary>A token limit of the gateway refused the request (429, type <c>tokens</c>).</summary>
    TokensRateLimited,

    /// <summary>Limits cannot be checked (Redis unreachable) and the policy is fail-closed.</summary>
    RateLimitUnavailable,

    /// <summary>The model's answer broke the schema of the request and the policy is reject (422).</summary>
    StructuredOutputInvalid,
}
