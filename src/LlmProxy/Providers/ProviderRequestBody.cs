namespace LlmProxy.Providers;

/// <summary>
/// The body a translator made for one attempt: <see cref="Bytes"/> to send (from the pool when <see cref="Pooled"/>:
/// return it after the attempt), or, when <see cref="Error"/> is set, why the request cannot go to this provider (a 400).
/// </summary>
internal readonly record struct ProviderRequestBody(ArraySegment<byte> Bytes, bool Pooled, string? Error = null, string? Param = null)
{
    /// <summary>A request the provider cannot take.</summary>
    public static ProviderRequestBody Refused(string error, string? param) => new(default, false, error, param);
}
