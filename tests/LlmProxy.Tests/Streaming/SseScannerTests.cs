using System.Text;
using LlmProxy.Streaming;

namespace LlmProxy.Tests.Streaming;

public sealed class SseScannerTests
{
    private static byte[] Bytes(string text) => Encoding.UTF8.GetBytes(text);

    [Fact]
    public void Scan_WholeEventsThenPartial_EventsEndAtLastBlankLineAndTailHeld()
    {
        var scanner = new SseScanner();
        var bytes = Bytes("data: 1\n\ndata: 2\n\nda");

        var scan = scanner.Scan(bytes, filled: false);

        Assert.Equal(new SseScan(0, 18, null, false), scan);
        var tail = new byte[16];
        Assert.Equal("da", Encoding.UTF8.GetString(tail, 0, scanner.TakeTail(tail)));
    }

    [Fact]
    public void Scan_FilledWithoutBlankLine_OversizedEventStartsAndPasses()
    {
        var scanner = new SseScanner();

        var scan = scanner.Scan(Bytes("data: xxxxxxxx"), filled: true);

        Assert.True(scan.OversizedStarted);
        Assert.Equal(14, scan.Passed);
        Assert.True(scanner.InOversizedEvent);
        Assert.Equal(0, scanner.TakeTail(new byte[16]));
    }

    [Theory]
    [InlineData("data: xxxx\n", "\ndata: 2\n\n", 1)]
    [InlineData("data: xxxx\n", "\r\ndata: 2\n\n", 2)]
    [InlineData("data: xxxx\n\r", "\ndata: 2\n\n", 1)]
    public void Scan_OversizedEventBlankLineSplitAcrossReads_EndsAtTheStraddle(string first, string second, int passed)
    {
        var scanner = new SseScanner();
        scanner.Scan(Bytes(first), filled: true);

        var scan = scanner.Scan(Bytes(second), filled: false);

        Assert.Equal(passed, scan.Passed);
        Assert.Equal(second.Length, scan.EventsEnd);
        Assert.Equal(first + second[..passed], Encoding.UTF8.GetString(scan.OversizedTail!));
        Assert.False(scanner.InOversizedEvent);
    }

    [Fact]
    public void Scan_OversizedEventContinues_AllPassAndNoEvents()
    {
        var scanner = new SseScanner();
        scanner.Scan(Bytes("data: xxxx"), filled: true);

        var scan = scanner.Scan(Bytes("yyyy"), filled: true);

        Assert.Equal(new SseScan(4, 4, null, false), scan);
        Assert.Equal("data: xxxxyyyy", Encoding.UTF8.GetString(scanner.EndOversizedEvent([])));
    }

    [Theory]
    [InlineData("event: x\ndata: {\"a\":1}\n\n", "{\"a\":1}")]
    [InlineData("data:[DONE]\r\n\r\n", "[DONE]")]
    [InlineData(": keep-alive\n\n", "")]
    [InlineData("event: x\nxdata: 1\n\n", "")]
    public void DataOf_Event_FirstDataLinePayload(string sseEvent, string data)
        => Assert.Equal(data, Encoding.UTF8.GetString(SseScanner.DataOf(Bytes(sseEvent))));

    [Theory]
    [InlineData("data: 1\ndata: [DONE]", 8)]
    [InlineData("data: [DONE]", 0)]
    [InlineData("data: 1", 7)]
    [InlineData("xdata: [DONE]", 13)]
    public void DoneLineIn_Tail_SplitsBeforeADoneLine(string tail, int at)
        => Assert.Equal(at, SseScanner.DoneLineIn(Bytes(tail)));
}
