using System.Text;
using LlmProxy.Streaming;
using LlmProxy.Tests.Fakes;

namespace LlmProxy.Tests.Streaming;

public sealed class SseEventLimitStreamTests
{
    private static async Task<string> DrainAsync(Stream stream)
    {
        var bytes = new List<byte>();
        var buffer = new byte[7];
        int read;
        while ((read = await stream.ReadAsync(buffer)) > 0)
        {
            bytes.AddRange(buffer.AsSpan(0, read));
        }

        return Encoding.UTF8.GetString([.. bytes]);
    }

    [Theory]
    [InlineData("\n\n")]
    [InlineData("\r\n\r\n")]
    [InlineData("\r\r")]
    [InlineData("\n\r\n")]
    public async Task Read_ManyEventsEachUnderTheLimit_PassUnchanged(string blankLine)
    {
        var events = string.Concat(Enumerable.Repeat("event: e\ndata: " + new string('x', 40) + blankLine, 10));
        await using var stream = new SseEventLimitStream(new ScriptedStream(events), maxEventBytes: 60);

        Assert.Equal(events, await DrainAsync(stream));
    }

    [Theory]
    [InlineData("data: ")]
    [InlineData("event: e\ndata: ")]
    [InlineData("data: a\r\ndata: ")]
    [InlineData("data: a\n\ndata: b\ndata: ")]
    public async Task Read_OneEventOverTheLimit_IOException(string start)
    {
        // Single line ends (\n, \r\n) inside an event do not reset the count; only a blank line does.
        await using var stream = new SseEventLimitStream(new ScriptedStream(start, new string('x', 30), new string('x', 30)), maxEventBytes: 50);

        var thrown = await Assert.ThrowsAsync<IOException>(() => DrainAsync(stream));

        Assert.Contains("50 bytes", thrown.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Read_CarriageReturnThenLineFeedAcrossReads_OneLineEnd()
    {
        // "\r" ends a line and the "\n" of the next read belongs to it: not a blank line, so the event goes on counting.
        await using var stream = new SseEventLimitStream(new ScriptedStream("data: " + new string('x', 20) + "\r", "\n", "data: " + new string('x', 30)), maxEventBytes: 50);

        await Assert.ThrowsAsync<IOException>(() => DrainAsync(stream));
    }

    [Fact]
    public async Task Read_EndlessLine_StopsAfterTheLimit()
    {
        var endless = new EndlessStream("data: "u8.ToArray(), (byte)'x');
        await using var stream = new SseEventLimitStream(endless, maxEventBytes: 1 << 20);
        var buffer = new byte[64 * 1024];

        await Assert.ThrowsAsync<IOException>(async () =>
        {
            while (await stream.ReadAsync(buffer) > 0)
            {
            }
        });

        Assert.InRange(endless.Served, 1 << 20, (1 << 20) + 16);
    }
}
