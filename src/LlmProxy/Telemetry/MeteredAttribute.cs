namespace LlmProxy.Telemetry;

/// <summary>Endpoint metadata: requests to this endpoint are metered (the forwarded OpenAI endpoints).</summary>
[AttributeUsage(AttributeTargets.Class | AttributeTargets.Method)]
public sealed class MeteredAttribute : Attribute
{
    /// <summary>Shared instance.</summary>
    public static readonly MeteredAttribute Instance = new();
}
