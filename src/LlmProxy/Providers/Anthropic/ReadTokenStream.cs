using LlmProxy.Streaming;

namespace LlmProxy.Providers.Anthropic;

/// <summary>
/// Reads the inner stream with <see cref="ReadToken"/> instead of the token it is handed. The SSE parser's
/// enumeration takes one token for its whole life; this lets each outer read pass its own token to the provider's
/// body, so a cancelled read throws the caller's <see cref="OperationCanceledException"/> unchanged.
/// </summary>
internal sealed class ReadTokenStream : PassThroughStream
{
    /// <summary>Wraps <paramref name="inner"/> (disposed with this stream).</summary>
    public ReadTokenStream(Stream inner)
        : base(inner)
    {
    }

    /// <summary>The token of the current outer read.</summary>
    public CancellationToken ReadToken { get; set; }

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        => Inner.ReadAsync(buffer, ReadToken);
}
