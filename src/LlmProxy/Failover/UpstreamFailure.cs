using LlmProxy.Errors;

namespace LlmProxy.Failover;

/// <summary>
/// A provider's error answer as the client would get it (OpenAI-shaped body and status), with what the attempt loop
/// needs to decide whether the client gets it: the provider's own status, its error code and how long it asked to wait.
/// </summary>
/// <param name="Status">The status the client gets (a translated one: Anthropic's 529 is 503; a refused credential is 502).</param>
/// <param name="Body">The OpenAI-shaped error body.</param>
/// <param name="ProviderStatus">The status the provider sent.</param>
/// <param name="Code">The error's <c>code</c> (for example <c>context_length_exceeded</c>), when it has one.</param>
/// <param name="RetryAfter">What the provider's <c>retry-after-ms</c> or <c>Retry-After</c> asked for.</param>
/// <param name="ShouldRetry">The <c>x-should-retry</c> value the client gets, when the gateway sets one.</param>
/// <param name="GatewayError">The gateway's own error, when the body is the gateway's rather than the provider's.</param>
/// <param name="TargetRefused">True when the target's translator refused the request before sending it (an operation or parameter its provider cannot take): another target may take it.</param>
internal sealed record UpstreamFailure(int Status, byte[] Body, int ProviderStatus, string? Code, TimeSpan? RetryAfter, bool? ShouldRetry, LlmError? GatewayError,
    bool TargetRefused = false)
{
    /// <summary>The 400 of a target that cannot take the request, kept for the attempt loop (which tries another target first).</summary>
    public static UpstreamFailure Refused(string message, string? param)
        => new(StatusCodes.Status400BadRequest, ErrorWriter.Serialize(message, ErrorWriter.TypeOf(LlmError.InvalidRequest), param, null), 0, null, null, null,
            LlmError.InvalidRequest, TargetRefused: true);
}
