using System.IO.Pipelines;
using System.Text;
using System.Text.Json;
using LlmProxy.Providers.Anthropic;
using LlmProxy.Streaming;
using LlmProxy.Tests.Fakes;

namespace LlmProxy.Tests.Providers.Anthropic;

public sealed class AnthropicEventStreamTests
{
    private static string Event(string data) => "event: " + JsonDocument.Parse(data).RootElement.GetProperty("type").GetString() + "\ndata: " + data + "\n\n";

    private static readonly string Conversation = Event(AnthropicStreamTranslatorTests.Start) + "event: ping\ndata: {\"type\": \"ping\"}\n\n"
        + Event(AnthropicStreamTranslatorTests.TextStart) + Event(AnthropicStreamTranslatorTests.TextDelta(0, "Hello"))
        + Event(AnthropicStreamTranslatorTests.MessageDelta("end_turn", 5)) + Event(AnthropicStreamTranslatorTests.Stop);

    private static async Task<string> DrainAsync(Stream stream, int bufferSize = 4096)
    {
        var bytes = new List<byte>();
        var buffer = new byte[bufferSize];
        int read;
        while ((read = await stream.ReadAsync(buffer)) > 0)
        {
            Assert.True(read <= bufferSize);
            bytes.AddRange(buffer.AsSpan(0, read));
        }

        return Encoding.UTF8.GetString([.. bytes]);
    }

    private static string[] Frames(string text) => text.Split("\n\n", StringSplitOptions.RemoveEmptyEntries);

    [Fact]
    public async Task Read_EventsSplitAcrossReads_AllFramesInOrder()
    {
        var chunks = Enumerable.Range(0, (Conversation.Length + 6) / 7).Select(i => (object)Conversation.Substring(i * 7, Math.Min(7, Conversation.Length - (i * 7)))).ToArray();
        await using var stream = new AnthropicEventStream(new ScriptedStream(chunks), new AnthropicStreamTranslator(null, 1));

        var frames = Frames(await DrainAsync(stream));

        Assert.Equal(6, frames.Length);
        Assert.Equal(": ping", frames[1]);
        Assert.Contains("\"content\":\"Hello\"", frames[2], StringComparison.Ordinal);
        Assert.Contains("\"finish_reason\":\"stop\"", frames[3], StringComparison.Ordinal);
        Assert.Contains("\"usage\":", frames[4], StringComparison.Ordinal);
        Assert.Equal("data: [DONE]", frames[5]);
    }

    [Fact]
    public async Task Read_FrameLargerThanBuffer_DeliveredOverSeveralReads()
    {
        var big = new string('x', 5000);
        var events = Event(AnthropicStreamTranslatorTests.Start) + Event(AnthropicStreamTranslatorTests.TextDelta(0, big)) + Event(AnthropicStreamTranslatorTests.Stop);
        await using var stream = new AnthropicEventStream(new ScriptedStream(events), new AnthropicStreamTranslator(null, 1));

        var frames = Frames(await DrainAsync(stream, bufferSize: 64));

        Assert.Equal(4, frames.Length);
        Assert.Equal(big, JsonDocument.Parse(frames[1][6..]).RootElement.GetProperty("choices")[0].GetProperty("delta").GetProperty("content").GetString());
    }

    [Fact]
    public async Task Read_EventComplete_ReturnedBeforeTheRestArrives()
    {
        var pipe = new Pipe();
        await using var stream = new AnthropicEventStream(pipe.Reader.AsStream(), new AnthropicStreamTranslator(null, 1));
        await pipe.Writer.WriteAsync(Encoding.UTF8.GetBytes(Event(AnthropicStreamTranslatorTests.Start) + "event: content_block_delta\ndata: {\"type\""));
        var buffer = new byte[4096];

        var read = await stream.ReadAsync(buffer).AsTask().WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Contains("\"role\":\"assistant\"", Encoding.UTF8.GetString(buffer, 0, read), StringComparison.Ordinal);
        var next = stream.ReadAsync(buffer).AsTask();
        Assert.False(next.IsCompleted);
        await pipe.Writer.WriteAsync(Encoding.UTF8.GetBytes(":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"Hi\"}}\n\n"));
        read = await next.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Contains("\"content\":\"Hi\"", Encoding.UTF8.GetString(buffer, 0, read), StringComparison.Ordinal);
        await pipe.Writer.CompleteAsync();
        // Cut before message_stop (and before any message_delta): no output count is known, so no usage chunk; the end.
        Assert.Equal(0, await stream.ReadAsync(buffer));
    }

    [Fact]
    public async Task Read_InnerIOException_PropagatesUnchanged()
    {
        var failure = new IOException("connection reset");
        await using var stream = new AnthropicEventStream(new ScriptedStream(Event(AnthropicStreamTranslatorTests.Start), failure), new AnthropicStreamTranslator(null, 1));
        var buffer = new byte[4096];

        Assert.True(await stream.ReadAsync(buffer) > 0);
        var thrown = await Assert.ThrowsAsync<IOException>(() => stream.ReadAsync(buffer).AsTask());

        Assert.Same(failure, thrown);
    }

    [Fact]
    public async Task Read_InnerHttpRequestException_PropagatesUnchanged()
    {
        var failure = new HttpRequestException("reset");
        await using var stream = new AnthropicEventStream(new ScriptedStream(failure), new AnthropicStreamTranslator(null, 1));

        var thrown = await Assert.ThrowsAsync<HttpRequestException>(() => stream.ReadAsync(new byte[16]).AsTask());

        Assert.Same(failure, thrown);
    }

    [Fact]
    public async Task Read_Cancelled_CallersTokenInException()
    {
        var pipe = new Pipe();
        await using var stream = new AnthropicEventStream(pipe.Reader.AsStream(), new AnthropicStreamTranslator(null, 1));
        using var cancellation = new CancellationTokenSource();

        var read = stream.ReadAsync(new byte[16], cancellation.Token).AsTask();
        await cancellation.CancelAsync();
        var thrown = await Assert.ThrowsAnyAsync<OperationCanceledException>(() => read);

        Assert.Equal(cancellation.Token, thrown.CancellationToken);
    }

    [Fact]
    public async Task Read_InnerEndsAfterMessageDeltaWithoutStop_UsageSoFarButNoDone()
    {
        await using var stream = new AnthropicEventStream(new ScriptedStream(Event(AnthropicStreamTranslatorTests.Start) + Event(AnthropicStreamTranslatorTests.TextDelta(0, "cut"))
            + Event(AnthropicStreamTranslatorTests.MessageDelta("end_turn", 5))), new AnthropicStreamTranslator(null, 1));

        var text = await DrainAsync(stream);

        var frames = Frames(text);
        Assert.Equal(4, frames.Length);
        Assert.Contains("\"choices\":[]", frames[3], StringComparison.Ordinal);
        Assert.Contains("\"completion_tokens\":5,", frames[3], StringComparison.Ordinal);
        Assert.DoesNotContain("[DONE]", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Read_InnerEndsBeforeMessageDelta_NoUsageChunkAndNoInventedFinish()
    {
        await using var stream = new AnthropicEventStream(new ScriptedStream(Event(AnthropicStreamTranslatorTests.Start) + Event(AnthropicStreamTranslatorTests.TextDelta(0, "cut"))),
            new AnthropicStreamTranslator(null, 1));

        var text = await DrainAsync(stream);

        // message_start's output count is only the start of the answer's: no usage chunk claims it as the total.
        Assert.Equal(2, Frames(text).Length);
        Assert.DoesNotContain("\"usage\"", text, StringComparison.Ordinal);
        Assert.DoesNotContain("[DONE]", text, StringComparison.Ordinal);
        Assert.DoesNotContain("\"finish_reason\":\"", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Read_UndecodableStringInEvent_IOExceptionAfterTheWholeFramesBefore()
    {
        await using var stream = new AnthropicEventStream(new ScriptedStream(Event(AnthropicStreamTranslatorTests.Start) + Event(AnthropicStreamTranslatorTests.TextDelta(0, "ok"))
            + Event(AnthropicStreamTranslatorTests.TextDelta(0, "\\ud800")) + Event(AnthropicStreamTranslatorTests.Stop)), new AnthropicStreamTranslator(null, 1));
        var buffer = new byte[4096];

        Assert.Contains("\"role\":\"assistant\"", Encoding.UTF8.GetString(buffer, 0, await stream.ReadAsync(buffer)), StringComparison.Ordinal);
        Assert.Contains("\"content\":\"ok\"", Encoding.UTF8.GetString(buffer, 0, await stream.ReadAsync(buffer)), StringComparison.Ordinal);
        await Assert.ThrowsAsync<IOException>(() => stream.ReadAsync(buffer).AsTask());

        // Nothing of the unreadable event, and nothing after it.
        Assert.Equal(0, await stream.ReadAsync(buffer));
    }

    [Fact]
    public async Task Read_EventLargerThanTheLimit_IOException()
    {
        await using var stream = new AnthropicEventStream(new ScriptedStream(Event(AnthropicStreamTranslatorTests.Start), "event: content_block_delta\ndata: " + new string('x', 2000)),
            new AnthropicStreamTranslator(null, 1), maxEventBytes: 1024);
        var buffer = new byte[4096];

        Assert.True(await stream.ReadAsync(buffer) > 0);
        var thrown = await Assert.ThrowsAsync<IOException>(() => stream.ReadAsync(buffer).AsTask());

        Assert.Contains("1024", thrown.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Read_EndlessLineAtTheDefaultLimit_IOExceptionAfterAtMostTheLimitRead()
    {
        var endless = new EndlessStream("data: "u8.ToArray(), (byte)'x');
        await using var stream = new AnthropicEventStream(endless, new AnthropicStreamTranslator(null, 1));

        await Assert.ThrowsAsync<IOException>(() => stream.ReadAsync(new byte[4096]).AsTask());

        // The parser can hold no more than was read: one event's worth, not the provider's whole line.
        Assert.InRange(endless.Served, SseEventLimitStream.DefaultMaxEventBytes, SseEventLimitStream.DefaultMaxEventBytes + 16);
    }

    [Fact]
    public async Task Read_ErrorEventAfterStart_ExactInputToTheMeterOutputLeftToEstimate()
    {
        var feature = TestRequests.Metered();
        await using var stream = new AnthropicEventStream(new ScriptedStream(Event(AnthropicStreamTranslatorTests.Start) + Event(AnthropicStreamTranslatorTests.TextDelta(0, "Partial"))
            + Event("""{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}""")), new AnthropicStreamTranslator(null, 1, usageChunk: true), feature);

        var text = await DrainAsync(stream);

        Assert.EndsWith("\"code\":\"overloaded\"}}\n\n", text, StringComparison.Ordinal);
        // Start: 25 uncached + 4 cache writes + 10 cache reads.
        Assert.Equal(39, feature.InputTokens);
        Assert.Equal(10, feature.CachedInputTokens);
        Assert.Null(feature.OutputTokens);
    }

    [Fact]
    public async Task Read_InnerIOExceptionAfterMessageDelta_ExactInputAndOutputToTheMeter()
    {
        var feature = TestRequests.Metered();
        await using var stream = new AnthropicEventStream(new ScriptedStream(Event(AnthropicStreamTranslatorTests.Start) + Event(AnthropicStreamTranslatorTests.MessageDelta("end_turn", 7)),
            new IOException("reset")), new AnthropicStreamTranslator(null, 1), feature);

        await Assert.ThrowsAsync<IOException>(() => DrainAsync(stream));

        Assert.Equal(39, feature.InputTokens);
        Assert.Equal(7, feature.OutputTokens);
    }

    [Fact]
    public async Task Read_UndecodableEvent_ExactInputToTheMeter()
    {
        var feature = TestRequests.Metered();
        await using var stream = new AnthropicEventStream(new ScriptedStream(Event(AnthropicStreamTranslatorTests.Start) + Event(AnthropicStreamTranslatorTests.TextDelta(0, "\\udc00"))),
            new AnthropicStreamTranslator(null, 1), feature);

        await Assert.ThrowsAsync<IOException>(() => DrainAsync(stream));

        Assert.Equal(39, feature.InputTokens);
        Assert.Null(feature.OutputTokens);
    }

    [Fact]
    public async Task Dispose_ClientLeftMidStream_ExactInputToTheMeter()
    {
        var feature = TestRequests.Metered();
        var pipe = new Pipe();
        var stream = new AnthropicEventStream(pipe.Reader.AsStream(), new AnthropicStreamTranslator(null, 1), feature);
        await pipe.Writer.WriteAsync(Encoding.UTF8.GetBytes(Event(AnthropicStreamTranslatorTests.Start)));
        Assert.True(await stream.ReadAsync(new byte[4096]) > 0);

        // YARP disposes the body synchronously when the copy to the client fails.
        stream.Dispose();

        Assert.Equal(39, feature.InputTokens);
        Assert.Null(feature.OutputTokens);
    }

    [Fact]
    public async Task Read_MeterAlreadyHasUsage_Untouched()
    {
        var feature = TestRequests.Metered();
        feature.SetUsage(3, 4, 0, 0);
        await using var stream = new AnthropicEventStream(new ScriptedStream(Event(AnthropicStreamTranslatorTests.Start), new IOException("reset")),
            new AnthropicStreamTranslator(null, 1), feature);

        await Assert.ThrowsAsync<IOException>(() => DrainAsync(stream));

        Assert.Equal(3, feature.InputTokens);
        Assert.Equal(4, feature.OutputTokens);
    }

    [Fact]
    public async Task Read_NotMetered_NothingHandedOver()
    {
        var feature = new LlmProxy.Hosting.LlmRequestFeature(TestRequests.EmptySnapshot, "r", 1);
        await using var stream = new AnthropicEventStream(new ScriptedStream(Event(AnthropicStreamTranslatorTests.Start), new IOException("reset")),
            new AnthropicStreamTranslator(null, 1), feature);

        await Assert.ThrowsAsync<IOException>(() => DrainAsync(stream));

        Assert.Null(feature.InputTokens);
    }

    [Fact]
    public async Task Read_InnerEndsWithoutStopAndUsageChunkOff_NothingAdded()
    {
        await using var stream = new AnthropicEventStream(new ScriptedStream(Event(AnthropicStreamTranslatorTests.Start) + Event(AnthropicStreamTranslatorTests.TextDelta(0, "cut"))),
            new AnthropicStreamTranslator(null, 1, usageChunk: false));

        var text = await DrainAsync(stream);

        Assert.Equal(2, Frames(text).Length);
        Assert.DoesNotContain("\"usage\"", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Read_EmptyBuffer_ReturnsZeroWithoutThrowing()
    {
        await using var stream = new AnthropicEventStream(new ScriptedStream(Conversation), new AnthropicStreamTranslator(null, 1));

        Assert.Equal(0, await stream.ReadAsync(Memory<byte>.Empty));
        Assert.Equal(6, Frames(await DrainAsync(stream)).Length);
    }

    [Fact]
    public void Read_SyncRead_SameFrames()
    {
        using var stream = new AnthropicEventStream(new ScriptedStream(Conversation), new AnthropicStreamTranslator(null, 1));
        var buffer = new byte[8192];
        var total = 0;
        int read;
        while ((read = stream.Read(buffer, total, buffer.Length - total)) > 0)
        {
            total += read;
        }

        Assert.EndsWith("data: [DONE]\n\n", Encoding.UTF8.GetString(buffer, 0, total), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Dispose_DisposesInner()
    {
        var inner = new ScriptedStream(Conversation);
        var stream = new AnthropicEventStream(inner, new AnthropicStreamTranslator(null, 1));
        Assert.True(await stream.ReadAsync(new byte[16]) > 0);

        await stream.DisposeAsync();

        Assert.True(inner.Disposed);
        Assert.False(stream.CanSeek);
    }
}
