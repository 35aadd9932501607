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
internal sealed record UpstreamFailure(int Status, byte[] Body, int ProviderStatus, string? Code, TimeSpan? RetryAfter, bool? ShouldRetry, LlmError? GatewayError);
