namespace LlmProxy.Providers;

/// <summary>
/// A provider error in OpenAI's shape: the status the client gets, the <c>{"error":{…}}</c> body, and whether to tell SDKs
/// to retry (<c>x-should-retry</c>; null leaves the provider's header, if any).
/// </summary>
internal readonly record struct ProviderError(int Status, byte[] Body, bool? ShouldRetry);
