namespace LlmProxy.Bench;

/// <summary>Recorded times to first event of one target.</summary>
internal sealed class StreamSamples
{
    private readonly List<double> _milliseconds;

    public StreamSamples(Target target, int capacity)
    {
        Target = target;
        _milliseconds = new List<double>(capacity);
    }

    public Target Target { get; }

    public int Errors { get; private set; }

    public string? FirstError { get; private set; }

    public IReadOnlyList<double> Milliseconds => _milliseconds;

    public void Add(double milliseconds) => _milliseconds.Add(milliseconds);

    public void AddError(string error)
    {
        Errors++;
        FirstError ??= error;
    }

    public void ResetErrors() => Errors = 0;
}
