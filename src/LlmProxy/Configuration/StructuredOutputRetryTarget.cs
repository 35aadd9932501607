using System.Text.Json.Serialization;

namespace LlmProxy.Configuration;

/// <summary>Which target a <c>retry</c> asks: the values of <see cref="StructuredOutputSettings.RetryTarget"/>.</summary>
[JsonConverter(typeof(ConfigEnumConverter<StructuredOutputRetryTarget>))]
public enum StructuredOutputRetryTarget
{
    /// <summary><c>next</c>: the model's next target in turn.</summary>
    [JsonStringEnumMemberName("next")]
    Next,

    /// <summary><c>same</c>: the target that answered.</summary>
    [JsonStringEnumMemberName("same")]
    Same,
}
