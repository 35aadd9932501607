namespace LlmProxy.Configuration;

/// <summary>Client authentication.</summary>
public sealed record AuthSettings
{
    /// <summary><c>keys</c> (default): a virtual key is required. <c>none</c>: no authentication, every model is open.</summary>
    public AuthMode Mode { get; init; } = AuthMode.Keys;
}
