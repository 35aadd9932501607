namespace LlmProxy.Providers.Anthropic;

/// <summary>
/// The outcome of <see cref="AnthropicRequest.Translate"/>. <see cref="Body"/> null means the request cannot be sent:
/// <see cref="Error"/> is then a client-facing message for a 400 <c>invalid_request_error</c> and <see cref="Param"/>
/// the offending field (null when no single field is to blame). <see cref="JsonToolName"/> is the name of the tool that
/// emulates <c>response_format</c> (pass it to the response and stream translators), or null when none was added.
/// </summary>
internal readonly record struct AnthropicRequestResult(byte[]? Body, string? Error, string? Param, string? JsonToolName);
