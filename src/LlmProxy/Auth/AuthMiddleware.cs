using LlmProxy.Errors;
using LlmProxy.Hosting;

namespace LlmProxy.Auth;

/// <summary>
/// Stage 1: finds the virtual key in <c>Authorization: Bearer</c> or <c>api-key</c> and records the caller on the
/// request's <see cref="LlmRequestFeature"/> (started by stage 0). Runs only for endpoints marked
/// <see cref="RequiresVirtualKeyAttribute"/>.
/// </summary>
internal sealed class AuthMiddleware
{
    private const string MissingKeyMessage = "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).";
    private const string InvalidKeyMessage = "Incorrect API key provided. Use a virtual key issued by this gateway.";

    private readonly RequestDelegate _next;

    public AuthMiddleware(RequestDelegate next) => _next = next;

    public Task Invoke(HttpContext context)
    {
        if (context.GetEndpoint()?.Metadata.GetMetadata<RequiresVirtualKeyAttribute>() is null)
        {
            return _next(context);
        }

        // Stage 0 starts the state of every endpoint that needs a key; the key is checked against its snapshot.
        var request = context.Features.Get<LlmRequestFeature>()
            ?? throw new InvalidOperationException("The metering stage must run before authentication.");
        var snapshot = request.Snapshot;
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

        request.Key = key;
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
