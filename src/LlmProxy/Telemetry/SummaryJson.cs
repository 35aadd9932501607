using System.Text.Json.Serialization;

namespace LlmProxy.Telemetry;

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, DefaultIgnoreCondition = JsonIgnoreCondition.Never)]
[JsonSerializable(typeof(SummaryDocument))]
internal sealed partial class SummaryJson : JsonSerializerContext;
