using System.Diagnostics;

namespace LlmProxy.Telemetry;

/// <summary>The gateway's <see cref="ActivitySource"/> (GenAI spans).</summary>
public static class LlmProxyActivity
{
    /// <summary>The source's name.</summary>
    public const string SourceName = "LlmProxy";

    /// <summary>The source.</summary>
    public static readonly ActivitySource Source = new(SourceName);
}
