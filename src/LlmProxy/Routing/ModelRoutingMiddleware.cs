using LlmProxy.Errors;
using LlmProxy.Hosting;
using Microsoft.AspNetCore.Http.Features;
using Yarp.ReverseProxy;

namespace LlmProxy.Routing;

/// <summary>
/// Stage 3: resolves the body's model (or alias) to a model the key may use and moves the request to that
/// model's YARP cluster. Unknown and forbidden models get the same 404 <c>model_not_found</c>, as OpenAI does.
/// </summary>
internal sealed class ModelRoutingMiddleware
{
    private readonly RequestDelegate _next;
    private readonly IProxyStateLookup _lookup;

    public ModelRoutingMiddleware(RequestDelegate next, IProxyStateLookup lookup)
    {
        _next = next;
        _lookup = lookup;
    }

    public Task Invoke(HttpContext context)
    {
        var feature = context.Features.GetRequiredFeature<LlmRequestFeature>();
        var requested = feature.Request.Model;
        if (!feature.Snapshot.Models.TryGetValue(requested, out var model) || !feature.Key.MayUse(model.Name))
        {
            return ErrorWriter.WriteAsync(context, LlmError.ModelNotFound, $"The model `{ErrorText.Clip(requested)}` does not exist or you do not have access to it.");
        }

        if (!_lookup.TryGetCluster(model.ClusterId, out var cluster))
        {
            // A model added by a reload that YARP has not applied yet.
            return ErrorWriter.WriteAsync(context, LlmError.NoAvailableTarget, $"The model `{ErrorText.Clip(requested)}` is being configured; retry shortly.");
        }

        feature.Model = model;
        context.ReassignProxyRequest(cluster);
        return _next(context);
    }
}
