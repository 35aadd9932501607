using LlmProxy.Configuration;
using LlmProxy.Errors;
using LlmProxy.Hosting;
using Microsoft.AspNetCore.Http.Features;

namespace LlmProxy.Routing;

/// <summary><c>GET /v1/models</c> and <c>GET /v1/models/{id}</c>: the models the caller's key may use, in OpenAI's shape.</summary>
internal static class ModelsEndpoints
{
    /// <summary>Maps the two endpoints.</summary>
    public static RouteGroupBuilder MapModels(this IEndpointRouteBuilder endpoints)
    {
        var group = endpoints.MapGroup("/v1/models").WithTags("Models");
        group.MapGet("", List)
            .WithName("ListModels").WithSummary("Lists the models this key may use.")
            .Produces<ModelList>();
        group.MapGet("/{**id}", Retrieve)
            .WithName("RetrieveModel").WithSummary("Describes one model (or alias) this key may use.")
            .Produces<ModelObject>().Produces(StatusCodes.Status404NotFound);
        return group;
    }

    private static IResult List(HttpContext context)
    {
        var feature = context.Features.GetRequiredFeature<LlmRequestFeature>();
        var data = new List<ModelObject>();
        foreach (var model in feature.Snapshot.ModelList)
        {
            if (feature.Key.MayUse(model.Name))
            {
                data.Add(ToObject(model.Name, model));
            }
        }

        return Results.Json(new ModelList("list", data), ModelsJson.Default.ModelList);
    }

    private static async Task Retrieve(HttpContext context, string id)
    {
        var feature = context.Features.GetRequiredFeature<LlmRequestFeature>();
        if (!feature.Snapshot.Models.TryGetValue(id, out var model) || !feature.Key.MayUse(model.Name))
        {
            await ErrorWriter.WriteAsync(context, LlmError.ModelNotFound, $"The model `{ErrorText.Clip(id)}` does not exist or you do not have access to it.");
            return;
        }

        await Results.Json(ToObject(id, model), ModelsJson.Default.ModelObject).ExecuteAsync(context);
    }

    private static ModelObject ToObject(string id, ModelRoute model) => new(id, "model", model.Created, "llmproxy");
}
