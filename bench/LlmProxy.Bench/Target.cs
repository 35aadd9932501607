using System.Net;

namespace LlmProxy.Bench;

/// <summary>One way of reaching the fake upstream: directly, through bare YARP, or through LlmProxy (in one of its settings).</summary>
/// <param name="Key">Stable id (JSON).</param>
/// <param name="Label">Name in the tables.</param>
/// <param name="ChatUri">Where to POST chat requests.</param>
/// <param name="Proxy">The proxy process whose CPU time is measured; null for direct.</param>
internal sealed record Target(string Key, string Label, Uri ChatUri, ChildProcess? Proxy)
{
    /// <summary>Runs before every measured run of this target (the LlmProxy targets switch metering here).</summary>
    public Func<CancellationToken, Task>? Prepare { get; init; }

    /// <summary>A helper server of this target (Redis) whose CPU time is measured with the proxy's.</summary>
    public ChildProcess? Sidecar { get; init; }

    /// <summary>The gateway's attempt counter, read around every run of this target (the failover setting); null for none.</summary>
    public GatewayAttempts? Attempts { get; init; }

    /// <summary>Whether the streaming runs include this target.</summary>
    public bool Streams { get; init; } = true;

    /// <summary>The <c>Authorization</c> header value every request carries.</summary>
    public static string AuthorizationValue { get; set; } = "";

    /// <summary>A POST of <paramref name="body"/> with a JSON content type and the bench key.</summary>
    public HttpRequestMessage CreateRequest(byte[] body)
    {
        var content = new ByteArrayContent(body);
        content.Headers.TryAddWithoutValidation("Content-Type", "application/json");
        var request = new HttpRequestMessage(HttpMethod.Post, ChatUri)
        {
            Content = content,
            Version = HttpVersion.Version11,
            VersionPolicy = HttpVersionPolicy.RequestVersionOrLower,
        };
        request.Headers.TryAddWithoutValidation("Authorization", AuthorizationValue);
        return request;
    }
}
