namespace LlmProxy.Providers;

/// <summary>
/// Where one request goes on its provider: the path after the provider's address and the query the provider needs
/// (Azure's <c>api-version</c>). The client's own query string is never part of it.
/// </summary>
/// <param name="Path">The path, for example <c>/chat/completions</c>.</param>
/// <param name="Query">The provider's query, or empty.</param>
internal readonly record struct UpstreamPath(PathString Path, QueryString Query);
