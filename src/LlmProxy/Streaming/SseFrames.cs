using LlmProxy.Errors;

namespace LlmProxy.Streaming;

/// <summary>
/// The one writer of the SSE frames the gateway adds to a stream: error events (<c>data: {"error":…}</c>, the JSON of
/// <see cref="ErrorWriter"/>), comments (<c>: text</c>, which SSE clients ignore) and <c>data: [DONE]</c>.
/// </summary>
internal static class SseFrames
{
    /// <summary>The event that ends chat and completion streams.</summary>
    public static ReadOnlySpan<byte> Done => "data: [DONE]\n\n"u8;

    /// <summary>What starts an event's data line.</summary>
    public static ReadOnlySpan<byte> DataPrefix => "data: "u8;

    /// <summary>The keep-alive comment that stands for a provider's ping (SSE clients ignore comments).</summary>
    public static ReadOnlySpan<byte> KeepAlive => ": ping\n\n"u8;

    /// <summary>The blank line that ends an event.</summary>
    public static ReadOnlySpan<byte> BlankLine => "\n\n"u8;

    /// <summary>
    /// <c>data: &lt;errorJson&gt;\n\n</c>; with <paramref name="endOpenEvent"/>, first the blank line that ends an event the
    /// provider left open (an event too large to hold, already partly sent).
    /// </summary>
    public static byte[] Error(ReadOnlySpan<byte> errorJson, bool endOpenEvent = false)
    {
        var prefix = endOpenEvent ? "\n\ndata: "u8 : "data: "u8;
        var bytes = new byte[prefix.Length + errorJson.Length + 2];
        prefix.CopyTo(bytes);
        errorJson.CopyTo(bytes.AsSpan(prefix.Length));
        bytes[^2] = (byte)'\n';
        bytes[^1] = (byte)'\n';
        return bytes;
    }

    /// <summary><c>: &lt;text&gt;\n\n</c>.</summary>
    public static byte[] Comment(string text) => System.Text.Encoding.UTF8.GetBytes(": " + text + "\n\n");

    /// <summary>A comment, then an error event.</summary>
    public static byte[] CommentThenError(string comment, ReadOnlySpan<byte> errorJson) => [.. Comment(comment), .. Error(errorJson)];

    /// <summary>
    /// The error event that ends a stream the provider did not finish: it failed (<see cref="StreamEnd.Unreachable"/>),
    /// stalled (<see cref="StreamEnd.TimedOut"/>), or closed cleanly without a finish reason (<see cref="StreamEnd.Truncated"/>).
    /// </summary>
    public static byte[] ProviderFailure(StreamEnd end, bool endOpenEvent)
    {
        var (error, message) = end switch
        {
            StreamEnd.Truncated => (LlmError.UpstreamError, "The provider ended the stream before the answer was finished (no finish reason); the answer is incomplete."),
            StreamEnd.TimedOut => (LlmError.UpstreamTimeout, "The stream did not finish in time: the provider stopped sending, or the request's deadline passed."),
            _ => (LlmError.UpstreamUnreachable, "The provider's connection failed before the stream finished."),
        };
        return Error(ErrorWriter.Serialize(message, ErrorWriter.TypeOf(error), null, ErrorWriter.CodeOf(error)), endOpenEvent);
    }
}
