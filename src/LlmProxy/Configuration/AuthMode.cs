using System.Text.Json.Serialization;

namespace LlmProxy.Configuration;

/// <summary>How clients authenticate: the values of <see cref="AuthSettings.Mode"/> (<c>auth.mode</c>).</summary>
[JsonConverter(typeof(ConfigEnumConverter<AuthMode>))]
public enum AuthMode
{
    /// <summary><c>keys</c>: a virtual key is required.</summary>
    [JsonStringEnumMemberName("keys")]
    Keys,

    /// <summary><c>none</c>: no authentication (must be chosen explicitly).</summary>
    [JsonStringEnumMemberName("none")]
    None,
}
