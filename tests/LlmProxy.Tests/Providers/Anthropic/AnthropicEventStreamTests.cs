using System.Text;
using LlmProxy.Providers.Anthropic;

namespace LlmProxy.Tests.Providers.Anthropic;

public sealed class AnthropicEventStreamTests
{
    private const string Start = "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\",\"model\":\"c\",\"usage\":{\"input_tokens\":5,\"output_tokens\":1}}}\n\n";

    // Hands out the bytes in the given pieces, one per read, then fails or ends.
    private sealed class PiecesStream(IEnumerable<string> pieces, Exception? failure = null) : MemoryStream
    {
        private readonly Queue<byte[]> _pieces = new(pieces.Select(Encoding.UTF8.GetBytes));

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (_pieces.Count == 0)
            {
                return failure is null ? ValueTask.FromResult(0) : ValueTask.FromException<int>(failure);
            }

            var piece = _pieces.Dequeue();
            piece.CopyTo(buffer);
            return ValueTask.FromResult(piece.Length);
        }

        public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();
    }

    private static async Task<string> ReadAllAsync(Stream stream, int bufferSize = 4096)
    {
        var bytes = new MemoryStream();
        var buffer = new byte[bufferSize];
        int read;
        while ((read = await stream.ReadAsync(buffer)) > 0)
        {
            bytes.Write(buffer, 0, read);
        }

        return Encoding.UTF8.GetString(bytes.ToArray());
    }

    [Fact]
    public async Task ReadAsync_EventSplitAcrossReadsAndSmallBuffer_WholeChunksInOrder()
    {
        var all = Start + "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"Hé\"}}\n\n"
            + "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"max_tokens\"},\"usage\":{\"output_tokens\":9}}\n\nevent: message_stop\ndata: {\"type\":\"message_stop\"}\n\n";
        var pieces = all.Chunk(7).Select(c => new string(c));
        await using var stream = new AnthropicEventStream(new PiecesStream(pieces), new AnthropicStreamTranslator(null, 1));

        var text = await ReadAllAsync(stream, bufferSize: 16);

        var events = text.Split("\n\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(5, events.Length);
        Assert.Contains("\"role\":\"assistant\"", events[0], StringComparison.Ordinal);
        Assert.Contains("\"content\":\"Hé\"", events[1], StringComparison.Ordinal);
        Assert.Contains("\"finish_reason\":\"length\"", events[2], StringComparison.Ordinal);
        Assert.Contains("\"completion_tokens\":9", events[3], StringComparison.Ordinal);
        Assert.Equal("data: [DONE]", events[4]);
    }

    [Fact]
    public async Task ReadAsync_ProviderConnectionFails_ExceptionSurfaces()
    {
        await using var stream = new AnthropicEventStream(new PiecesStream([Start], new IOException("reset")), new AnthropicStreamTranslator(null, 1));

        await Assert.ThrowsAsync<IOException>(() => ReadAllAsync(stream));
    }

    [Fact]
    public async Task ReadAsync_StreamEndsWithoutMessageStop_EndsWithoutInventedFinish()
    {
        await using var stream = new AnthropicEventStream(new PiecesStream([Start]), new AnthropicStreamTranslator(null, 1));

        var text = await ReadAllAsync(stream);

        Assert.DoesNotContain("finish_reason\":\"", text, StringComparison.Ordinal);
        Assert.DoesNotContain("[DONE]", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ReadAsync_ForcedJsonToolStream_ArgumentsBecomeContent()
    {
        var all = Start + "data: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"tool_use\",\"id\":\"t\",\"name\":\"json_response\",\"input\":{}}}\n\n"
            + "data: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":\"{\\\"a\\\":1}\"}}\n\n"
            + "data: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"tool_use\"},\"usage\":{\"output_tokens\":3}}\n\n";
        await using var stream = new AnthropicEventStream(new PiecesStream([all]), new AnthropicStreamTranslator("json_response", 1));

        var text = await ReadAllAsync(stream);

        Assert.Contains("\"content\":\"{\\\"a\\\":1}\"", text, StringComparison.Ordinal);
        Assert.DoesNotContain("tool_calls", text, StringComparison.Ordinal);
        Assert.Contains("\"finish_reason\":\"stop\"", text, StringComparison.Ordinal);
    }
}
