namespace LlmProxy.Routing;

/// <summary>The client's <c>stream_options</c>, as far as usage reporting is concerned.</summary>
public enum StreamOptions
{
    /// <summary>No <c>stream_options</c>: the gateway may add <c>{"include_usage":true}</c> and strip the usage chunk again.</summary>
    Absent,

    /// <summary>The client asked for the usage chunk itself.</summary>
    IncludeUsage,

    /// <summary>Present without <c>include_usage: true</c>: left as sent; usage is then estimated.</summary>
    Other,
}
