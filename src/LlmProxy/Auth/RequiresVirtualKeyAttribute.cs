namespace LlmProxy.Auth;

/// <summary>Endpoint metadata: the endpoint needs a virtual key (the auth stage runs only for these).</summary>
[AttributeUsage(AttributeTargets.Class | AttributeTargets.Method)]
public sealed class RequiresVirtualKeyAttribute : Attribute
{
    /// <summary>Shared instance.</summary>
    public static readonly RequiresVirtualKeyAttribute Instance = new();
}
