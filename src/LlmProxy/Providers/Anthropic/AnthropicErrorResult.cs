namespace LlmProxy.Providers.Anthropic;

/// <summary>
/// An Anthropic error response in OpenAI form: the status to send (529 becomes 503), the OpenAI error body and
/// whether the request may be retried (on another target or by the client).
/// </summary>
internal readonly record struct AnthropicErrorResult(int Status, byte[] OpenAIBody, bool ShouldRetry);
