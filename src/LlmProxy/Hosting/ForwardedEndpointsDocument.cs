using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace LlmProxy.Hosting;

/// <summary>
/// Adds the forwarded OpenAI endpoints (served by YARP, so not discovered by ASP.NET) to <c>/openapi/v1.json</c>.
/// </summary>
internal sealed class ForwardedEndpointsDocument : IOpenApiDocumentTransformer
{
    private static readonly (string Path, string Summary)[] Endpoints =
    [
        ("/v1/chat/completions", "Chat completion, streamed (SSE) or not; routed by the body's model."),
        ("/v1/completions", "Legacy text completion; routed by the body's model."),
        ("/v1/embeddings", "Embeddings; routed by the body's model."),
        ("/v1/responses", "Responses API; routed by the body's model."),
    ];

    public Task TransformAsync(OpenApiDocument document, OpenApiDocumentTransformerContext context, CancellationToken cancellationToken)
    {
        document.Info.Title = "LlmProxy";
        document.Info.Description = "OpenAI-compatible LLM gateway. Send `Authorization: Bearer <virtual key>` (or `api-key`). " +
            "Forwarded endpoints take OpenAI's request bodies unchanged; errors are OpenAI-shaped.";
        // The generated servers list echoes the request's Host header; without one, clients use the document's own origin.
        document.Servers = [];
        document.Paths ??= [];
        foreach (var (path, summary) in Endpoints)
        {
            var operation = new OpenApiOperation
            {
                Summary = summary,
                Tags = new HashSet<OpenApiTagReference> { new("OpenAI (forwarded)", document) },
                RequestBody = new OpenApiRequestBody
                {
                    Required = true,
                    Description = "An OpenAI request body with a `model` naming a model of this gateway.",
                    Content = new Dictionary<string, OpenApiMediaType> { ["application/json"] = new() },
                },
                Responses = new OpenApiResponses
                {
                    ["200"] = new OpenApiResponse { Description = "The provider's answer (JSON, or text/event-stream when `stream` is true)." },
                    ["400"] = new OpenApiResponse { Description = "Malformed JSON or missing model." },
                    ["401"] = new OpenApiResponse { Description = "Missing or unknown key." },
                    ["404"] = new OpenApiResponse { Description = "Unknown model, or one the key may not use." },
                    ["413"] = new OpenApiResponse { Description = "Body over the configured limit." },
                    ["502"] = new OpenApiResponse { Description = "Provider unreachable or refused the gateway's credential." },
                    ["504"] = new OpenApiResponse { Description = "Provider timeout." },
                },
            };
            var item = new OpenApiPathItem();
            item.AddOperation(HttpMethod.Post, operation);
            document.Paths[path] = item;
        }

        return Task.CompletedTask;
    }
}
