using LlmProxy.Configuration;
using LlmProxy.Errors;
using LlmProxy.Routing;

namespace LlmProxy.Auth;

/// <summary>
/// Stage 1: finds the virtual key in <c>Authorization: Bearer</c> or <c>api-key</c>, and starts the request's
/// <see cref="LlmRequestFeature"/>. Runs only for endpoints marked <see cref="RequiresVirtualKeyAttribute"/>.
/// </summary>
internal sealed class AuthMiddleware
{
    private const string MissingKeyMessage = "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).";
    private const string InvalidKeyMessage = "Incorrect API key provided. Use a virtual key issued by this gateway.";

    private readonly RequestDelegate _next;
    private readonly ConfigStore _store;

    public AuthMiddleware(RequestDelegate next, ConfigStore store)
    {
        _next = next;
        _store = store;
    }

    public Task Invoke(HttpContext context)
    {
        if (context.GetEndpoint()?.Metadata.GetMetadata<RequiresVirtualKeyAttribute>() is null)
        {
            return _next(context);
        }

        var snapshot = _store.Current;
        VirtualKey? key;
        if (snapshot.AuthDisabled)
        {
            key = VirtualKey.Anonymous;
        }
        else
        {
            var presented = FindPresentedKey(context.Request.Headers);
            if (presented.IsEmpty)
            {
                return ErrorWriter.WriteAsync(context, LlmError.MissingApiKey, MissingKeyMessage);
            }

            key = snapshot.Keys.Find(presented);
            if (key is null)
            {
                return ErrorWriter.WriteAsync(context, LlmError.InvalidApiKey, InvalidKeyMessage);
            }
        }

        context.Features.Set(new LlmRequestFeature(snapshot, key));
        return _next(context);
    }

    /// <summary>The key from <c>Authorization: Bearer …</c>, else from <c>api-key</c> (Azure SDKs); empty when absent.</summary>
    internal static ReadOnlySpan<char> FindPresentedKey(IHeaderDictionary headers)
    {
        var authorization = headers.Authorization;
        if (authorization.Count == 1)
        {
            var value = authorization[0].AsSpan().Trim();
            if (value.Length > 7 && value[..7].Equals("Bearer ", StringComparison.OrdinalIgnoreCase))
            {
                return value[7..].Trim();
            }
        }

        var apiKey = headers["api-key"];
        return apiKey.Count == 1 ? apiKey[0].AsSpan().Trim() : [];
    }
}
