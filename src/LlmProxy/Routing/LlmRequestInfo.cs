namespace LlmProxy.Routing;

/// <summary>The fields the gateway reads from a request body; everything else passes through untouched.</summary>
public readonly record struct LlmRequestInfo
{
    /// <summary>The requested (public) model name.</summary>
    public required string Model { get; init; }

    /// <summary>Offset of the model's JSON string token (opening quote) in the body.</summary>
    public required int ModelTokenStart { get; init; }

    /// <summary>Length of the model's JSON string token, quotes included.</summary>
    public required int ModelTokenLength { get; init; }

    /// <summary>True when <c>stream: true</c>.</summary>
    public required bool Stream { get; init; }

    /// <summary>What the client said in <c>stream_options</c>.</summary>
    public StreamOptions StreamOptions { get; init; }

    /// <summary>Offset of the body's closing brace (where the gateway can add a property).</summary>
    public int RootEnd { get; init; }

    /// <summary>Where the <c>response_format</c> value is in the body, when present.</summary>
    public Range? ResponseFormat { get; init; }

    /// <summary>Where the <c>tools</c> value is in the body, when present.</summary>
    public Range? Tools { get; init; }
}
