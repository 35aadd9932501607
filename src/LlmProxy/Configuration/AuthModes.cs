namespace LlmProxy.Configuration;

/// <summary>The values of <see cref="AuthSettings.Mode"/>.</summary>
public static class AuthModes
{
    /// <summary>A virtual key is required.</summary>
    public const string Keys = "keys";

    /// <summary>No authentication (must be chosen explicitly).</summary>
    public const string None = "none";
}
