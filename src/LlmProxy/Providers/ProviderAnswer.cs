using LlmProxy.Usage;

namespace LlmProxy.Providers;

/// <summary>
/// A non-streamed provider answer in OpenAI's shape: the body the client gets and the token usage the translator read
/// from the provider's answer (null when the translator does not read it; metering then reads the body).
/// </summary>
internal readonly record struct ProviderAnswer(byte[] Body, TokenUsage? Usage);
