using System.Text.Json.Serialization;

namespace LlmProxy.Configuration;

/// <summary>How streams are validated under <c>reject</c>/<c>retry</c>: the values of <see cref="StructuredOutputSettings.StreamMode"/>.</summary>
[JsonConverter(typeof(ConfigEnumConverter<StructuredOutputStreamMode>))]
public enum StructuredOutputStreamMode
{
    /// <summary><c>pass-through</c>: send events at once and end a failed answer with an error event.</summary>
    [JsonStringEnumMemberName("pass-through")]
    PassThrough,

    /// <summary><c>buffer</c>: hold events until the answer is validated, then send them, or a 422.</summary>
    [JsonStringEnumMemberName("buffer")]
    Buffer,
}
