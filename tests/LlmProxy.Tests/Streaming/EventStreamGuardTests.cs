using System.Text;
using System.Text.Json;
using LlmProxy.Hosting;
using LlmProxy.Streaming;
using LlmProxy.Telemetry;
using LlmProxy.Tests.Fakes;
using LlmProxy.Usage;
using Microsoft.AspNetCore.Http;

namespace LlmProxy.Tests.Streaming;

public sealed class EventStreamGuardTests
{
    private static async Task<(List<string> Reads, string WrittenDirectly)> DrainAsync(ScriptedStream provider, int bufferSize = 4096, DefaultHttpContext? context = null, LlmRequestFeature? meter = null)
    {
        context ??= new DefaultHttpContext();
        var direct = new MemoryStream();
        context.Response.Body = direct;
        IStreamObserver[] observers = meter is null ? [] : [new StreamUsageObserver(meter, TimeProvider.System)];
        using var guard = new EventStreamGuard(new StreamContent(provider), context, observers, endsWithDone: false, TimeProvider.System);
        await using var stream = await guard.ReadAsStreamAsync();
        var reads = new List<string>();
        var buffer = new byte[bufferSize];
        int read;
        while ((read = await stream.ReadAsync(buffer)) > 0)
        {
            reads.Add(Encoding.UTF8.GetString(buffer, 0, read));
        }

        return (reads, Encoding.UTF8.GetString(direct.ToArray()));
    }

    [Fact]
    public async Task Read_WholeEvents_PassAtOnceUnchanged()
    {
        var (reads, direct) = await DrainAsync(new ScriptedStream("data: 1\n\n", "data: 2\n\ndata: [DONE]\n\n"));

        Assert.Equal(["data: 1\n\n", "data: 2\n\ndata: [DONE]\n\n"], reads);
        Assert.Empty(direct);
    }

    [Fact]
    public async Task Read_EventSplitAcrossReads_HeldUntilItsBlankLine()
    {
        var (reads, _) = await DrainAsync(new ScriptedStream("data: 1\n\nda", "ta: 2", "\n\ndata: [DONE]\n\n"));

        Assert.Equal(["data: 1\n\n", "data: 2\n\ndata: [DONE]\n\n"], reads);
    }

    [Fact]
    public async Task Read_CrlfEvents_RecognisedAsComplete()
    {
        var (reads, _) = await DrainAsync(new ScriptedStream("data: 1\r\n\r\nda", "ta: [DONE]\r\n\r\n"));

        Assert.Equal(["data: 1\r\n\r\n", "data: [DONE]\r\n\r\n"], reads);
    }

    [Fact]
    public async Task Read_ProviderEndsWithoutBlankLine_TailStillDeliveredAsAWholeEvent()
    {
        var (reads, _) = await DrainAsync(new ScriptedStream("data: 1\n\ndata: [DONE]"));

        Assert.Equal("data: 1\n\ndata: [DONE]\n\n", string.Concat(reads));
    }

    [Theory]
    [InlineData("data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hi\"},\"finish_reason\":null}]}\n\n")]
    [InlineData("data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hi\"},\"finish_reason\":null}]}")]
    [InlineData(": keep-alive\n\n")]
    [InlineData("")]
    public async Task Read_CleanCloseWithoutFinishReason_EndsWithATruncationErrorEvent(string sent)
    {
        var meter = TestRequests.Metered("r");

        var (reads, _) = await DrainAsync(new ScriptedStream(sent), meter: meter);

        var text = string.Concat(reads);
        var events = text.Split("\n\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.StartsWith("data: {\"error\"", events[^1], StringComparison.Ordinal);
        var error = JsonDocument.Parse(events[^1][6..]).RootElement.GetProperty("error");
        Assert.Equal("upstream_error", error.GetProperty("code").GetString());
        Assert.Equal("server_error", error.GetProperty("type").GetString());
        Assert.EndsWith("\n\n", text, StringComparison.Ordinal);
        Assert.DoesNotContain("[DONE]", text, StringComparison.Ordinal);
        Assert.Equal(ErrorCategory.UpstreamError, meter.StreamFailure);
    }

    [Theory]
    [InlineData("data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\ndata: [DONE]\n\n")]
    [InlineData("event: response.completed\ndata: {\"type\":\"response.completed\",\"response\":{}}\n\n")]
    [InlineData("event: response.completed\ndata: {\"type\":\"response.completed\",\"response\":{}}")]
    [InlineData("data: {\"error\":{\"message\":\"overloaded\",\"type\":\"server_error\",\"param\":null,\"code\":null}}\n\n")]
    public async Task Read_StreamThatSaidItWasFinished_NoErrorEventAdded(string sent)
    {
        var meter = TestRequests.Metered("r");

        var (reads, _) = await DrainAsync(new ScriptedStream(sent), meter: meter);

        var text = string.Concat(reads);
        Assert.Equal(sent.EndsWith("\n\n", StringComparison.Ordinal) ? sent : sent + "\n\n", text);
        Assert.Equal(ErrorCategory.None, meter.StreamFailure);
    }

    [Fact]
    public async Task Read_BigEventWhoseBlankLineIsSplitAcrossReads_DoneObservedOnce()
    {
        var big = "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"" + new string('x', 100) + "\"},\"finish_reason\":\"stop\"}]}\n";

        var (reads, _) = await DrainAsync(new ScriptedStream(big, "\ndata: [DONE]\n\n"), bufferSize: 32);

        var text = string.Concat(reads);
        Assert.Equal(big + "\ndata: [DONE]\n\n", text);
    }

    [Theory]
    [InlineData("{\"sequence_number\":9,\"type\":\"response.completed\",\"response\":{\"id\":\"r1\"}}")]
    [InlineData("{ \"type\": \"response.completed\", \"response\":{\"id\":\"r1\"}}")]
    [InlineData("{\"sequence_number\":3,\"type\":\"error\",\"message\":\"overloaded\"}")]
    [InlineData("{\"id\":\"c\", \"error\": {\"message\":\"overloaded\"}}")]
    public async Task Read_TerminalEventWithTypeOrErrorAnywhere_RecognisedAsFinished(string json)
    {
        var sent = "data: {\"type\":\"response.output_text.delta\",\"delta\":\"Hi\"}\n\nevent: response.completed\ndata: " + json + "\n\n";

        var (reads, _) = await DrainAsync(new ScriptedStream(sent));

        Assert.Equal(sent, string.Concat(reads));
    }

    [Fact]
    public async Task Read_BigEventEndingWithFinishReason_CountsAsFinished()
    {
        var big = "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"" + new string('x', 100) + "\"},\"finish_reason\":\"length\"}]}";

        var (reads, _) = await DrainAsync(new ScriptedStream(big), bufferSize: 32);

        Assert.Equal(big + "\n\n", string.Concat(reads));
    }

    [Theory]
    [InlineData(false, "upstream_unreachable")]
    [InlineData(true, "upstream_timeout")]
    public async Task Read_ProviderFailsMidEvent_PartialDroppedAndErrorEventWritten(bool timeout, string code)
    {
        Exception failure = timeout ? new OperationCanceledException() : new IOException("reset");

        var (reads, direct) = await DrainAsync(new ScriptedStream("data: 1\n\ndata: {\"par", failure));

        Assert.Equal(["data: 1\n\n"], reads);
        Assert.StartsWith("data: {", direct, StringComparison.Ordinal);
        Assert.EndsWith("}\n\n", direct, StringComparison.Ordinal);
        var error = JsonDocument.Parse(direct[6..]).RootElement.GetProperty("error");
        Assert.Equal(code, error.GetProperty("code").GetString());
    }

    [Fact]
    public async Task Read_EventLargerThanBuffer_PassesThroughAndFailureTerminatesIt()
    {
        var (reads, direct) = await DrainAsync(new ScriptedStream("data: " + new string('x', 40), new IOException("reset")), bufferSize: 16);

        Assert.Equal("data: " + new string('x', 40), string.Concat(reads));
        Assert.StartsWith("\n\ndata: {\"error\"", direct, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Read_ClientAborted_FailurePropagates()
    {
        var context = new DefaultHttpContext();
        using var aborted = new CancellationTokenSource();
        aborted.Cancel();
        context.RequestAborted = aborted.Token;

        await Assert.ThrowsAsync<IOException>(() => DrainAsync(new ScriptedStream("data: 1\n\n", new IOException("client gone")), context: context));
    }

    [Fact]
    public async Task Read_WithMeter_UsageChunkStrippedOnlyWhenGatewayAskedForIt()
    {
        const string usage = "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":2,\"total_tokens\":5}}\n\n";
        var stripping = new LlmRequestFeature(TestRequests.EmptySnapshot, "r", 1) { Metered = true, StripUsageChunk = true };
        var keeping = TestRequests.Metered("r");

        var (stripped, _) = await DrainAsync(new ScriptedStream("data: {\"choices\":[{\"delta\":{\"content\":\"hi\"}}]}\n\n" + usage, "data: [DONE]\n\n"), meter: stripping);
        var (kept, _) = await DrainAsync(new ScriptedStream(usage + "data: [DONE]\n\n"), meter: keeping);

        Assert.Equal("data: {\"choices\":[{\"delta\":{\"content\":\"hi\"}}]}\n\ndata: [DONE]\n\n", string.Concat(stripped));
        Assert.Equal(usage + "data: [DONE]\n\n", string.Concat(kept));
        Assert.Equal(5, stripping.ResolveUsage().Total);
        Assert.Equal(5, keeping.ResolveUsage().Total);
        Assert.True(stripping.FirstToken > 0);
    }

    [Fact]
    public async Task Read_EventLargerThanBufferEndingWithUsage_UsageStillRead()
    {
        var meter = TestRequests.Metered("r");
        var big = "event: response.completed\ndata: {\"type\":\"response.completed\",\"response\":{\"output\":\"" + new string('x', 500)
            + "\",\"usage\":{\"input_tokens\":20000,\"output_tokens\":3000,\"output_tokens_details\":{\"reasoning_tokens\":2998}},\"metadata\":{}}}\n\n";

        var (reads, _) = await DrainAsync(new ScriptedStream("event: x\ndata: {\"type\":\"x\"}\n\n", big), bufferSize: 64, meter: meter);

        Assert.Equal("event: x\ndata: {\"type\":\"x\"}\n\n" + big, string.Concat(reads));
        Assert.Equal(new LlmProxy.Usage.TokenUsage(20000, 3000, 0, 2998, false), meter.ResolveUsage());
    }

    private static async Task<string> DrainWithAsync(IStreamObserver observer, bool endsWithDone, params object[] script)
    {
        var context = new DefaultHttpContext();
        using var guard = new EventStreamGuard(new StreamContent(new ScriptedStream(script)), context, [observer], endsWithDone, TimeProvider.System);
        await using var stream = await guard.ReadAsStreamAsync();
        var text = new StringBuilder();
        var buffer = new byte[4096];
        int read;
        while ((read = await stream.ReadAsync(buffer)) > 0)
        {
            text.Append(Encoding.UTF8.GetString(buffer, 0, read));
        }

        return text.ToString();
    }

    [Fact]
    public async Task Read_ObserverHoldsThenReleases_HeldEventsGoOutInOrderBeforeTheReleasingOne()
    {
        var observer = new ScriptedObserver { Hold = ["1", "2"], ReleaseAt = "3", Frame = ": verdict\n\n" };

        var text = await DrainWithAsync(observer, false, "data: 1\n\ndata: 2\n\n", "data: 3\n\ndata: [DONE]\n\n");

        Assert.Equal("data: 1\n\ndata: 2\n\n: verdict\n\ndata: 3\n\ndata: [DONE]\n\n", text);
        Assert.Equal(nameof(StreamEnd.Finished), observer.End);
    }

    [Fact]
    public async Task Read_ObserverStops_OnlyItsFramesFollowAndHeldEventsDiscarded()
    {
        var observer = new ScriptedObserver { Hold = ["2"], StopAt = "3", Frame = "data: {\"error\":{}}\n\n" };

        var text = await DrainWithAsync(observer, false, "data: 1\n\ndata: 2\n\ndata: 3\n\ndata: 4\n\n", "data: 5\n\n");

        Assert.Equal("data: 1\n\ndata: {\"error\":{}}\n\n", text);
        Assert.Equal(nameof(StreamEnd.Stopped), observer.End);
    }

    [Fact]
    public async Task Read_FinishedWithoutDone_ObserverEndFramesThenDone()
    {
        var observer = new ScriptedObserver { Frame = ": verdict\n\n", FrameAtEnd = true };
        const string finished = "data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n";

        var text = await DrainWithAsync(observer, true, finished);

        Assert.Equal(finished + ": verdict\n\ndata: [DONE]\n\n", text);
        Assert.Equal(nameof(StreamEnd.Finished), observer.End);
    }

    [Fact]
    public async Task Read_ZeroByteRead_WaitsOnTheProviderWithoutConsumingIt()
    {
        var context = new DefaultHttpContext();
        using var guard = new EventStreamGuard(new StreamContent(new ScriptedStream("data: 1\n\n")), context, [], endsWithDone: false, TimeProvider.System);
        await using var stream = await guard.ReadAsStreamAsync();

        var zero = await stream.ReadAsync(Memory<byte>.Empty);
        var buffer = new byte[64];
        var read = await stream.ReadAsync(buffer);

        Assert.Equal(0, zero);
        Assert.Equal("data: 1\n\n", Encoding.UTF8.GetString(buffer, 0, read));
    }

    /// <summary>An observer that holds, releases and stops on the data it is told, writing one frame when it does.</summary>
    private sealed class ScriptedObserver : IStreamObserver
    {
        public string[] Hold { get; init; } = [];

        public string? ReleaseAt { get; init; }

        public string? StopAt { get; init; }

        public string Frame { get; init; } = "";

        public bool FrameAtEnd { get; init; }

        public string? End { get; private set; }

        public EventVerdict OnEvent(ReadOnlySpan<byte> sseEvent, ReadOnlySpan<byte> data, SseOutbox outbox)
        {
            var text = Encoding.UTF8.GetString(data);
            if (text == ReleaseAt)
            {
                outbox.ReleaseHeld();
                outbox.Write(Encoding.UTF8.GetBytes(Frame));
                return EventVerdict.Pass;
            }

            if (text == StopAt)
            {
                outbox.Write(Encoding.UTF8.GetBytes(Frame));
                return EventVerdict.Stop;
            }

            return Hold.Contains(text) ? EventVerdict.Hold : EventVerdict.Pass;
        }

        public void OnOversizedEvent(ReadOnlySpan<byte> tail)
        {
        }

        public EventVerdict OnProviderEnd(SseOutbox outbox)
        {
            if (FrameAtEnd)
            {
                outbox.Write(Encoding.UTF8.GetBytes(Frame));
            }

            return EventVerdict.Pass;
        }

        public ValueTask<bool> OnProviderFailureAsync(StreamEnd failure) => ValueTask.FromResult(false);

        public void OnStreamEnd(StreamEnd end) => End = end.ToString();
    }
}
