namespace LlmProxy.Providers.Anthropic;

/// <summary>An Anthropic error as an OpenAI-shaped one: the client's status, the body, and whether SDKs should retry.</summary>
internal readonly record struct AnthropicErrorResult(int Status, byte[] OpenAIBody, bool ShouldRetry);
