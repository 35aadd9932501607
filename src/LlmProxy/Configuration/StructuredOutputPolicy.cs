using System.Text.Json.Serialization;

namespace LlmProxy.Configuration;

/// <summary>
/// What the gateway does with an answer that breaks its schema: the values of <see cref="StructuredOutputSettings.Policy"/>
/// (<c>structured_output.policy</c>) and of the <c>x-llmproxy-validation-policy</c> header.
/// </summary>
[JsonConverter(typeof(ConfigEnumConverter<StructuredOutputPolicy>))]
public enum StructuredOutputPolicy
{
    /// <summary><c>annotate</c>: pass the answer through and say what validation found in a header.</summary>
    [JsonStringEnumMemberName("annotate")]
    Annotate,

    /// <summary><c>reject</c>: replace an invalid answer with an OpenAI-shaped error.</summary>
    [JsonStringEnumMemberName("reject")]
    Reject,

    /// <summary><c>retry</c>: ask again, then reject.</summary>
    [JsonStringEnumMemberName("retry")]
    Retry,
}
