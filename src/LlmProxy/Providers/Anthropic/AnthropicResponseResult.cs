using LlmProxy.Usage;

namespace LlmProxy.Providers.Anthropic;

/// <summary>An Anthropic message as an OpenAI <c>chat.completion</c>, with its usage.</summary>
internal readonly record struct AnthropicResponseResult(byte[] OpenAIBody, TokenUsage Usage);
