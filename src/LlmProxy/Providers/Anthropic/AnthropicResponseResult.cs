using LlmProxy.Usage;

namespace LlmProxy.Providers.Anthropic;

/// <summary>An Anthropic message translated to an OpenAI <c>chat.completion</c> body, with its token usage.</summary>
internal readonly record struct AnthropicResponseResult(byte[] OpenAIBody, TokenUsage Usage);
