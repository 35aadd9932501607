using System.Text.Json.Serialization;

namespace LlmProxy.Routing;

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(ModelList))]
[JsonSerializable(typeof(ModelObject))]
internal sealed partial class ModelsJson : JsonSerializerContext;
