namespace LlmProxy.Bench;

internal sealed record StreamResult
{
    /// <summary>Stable id, as in <see cref="LoadResult.Key"/>.</summary>
    public required string Key { get; init; }

    /// <summary>Name in the tables.</summary>
    public required string Target { get; init; }

    public int Samples { get; init; }

    public int Errors { get; init; }

    public double MinMs { get; init; }

    public double MedianMs { get; init; }

    public double P90Ms { get; init; }

    public double P99Ms { get; init; }

    public double MeanMs { get; init; }

    public string? FirstError { get; init; }
}
