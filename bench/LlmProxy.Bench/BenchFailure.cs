namespace LlmProxy.Bench;

/// <summary>The benchmark could not run (a server did not start, a target answered wrongly).</summary>
internal sealed class BenchFailure : Exception
{
    public BenchFailure(string message)
        : base(message)
    {
    }

    public BenchFailure(string message, Exception inner)
        : base(message, inner)
    {
    }

    public BenchFailure()
    {
    }
}
