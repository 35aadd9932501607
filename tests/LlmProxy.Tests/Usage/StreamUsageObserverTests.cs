using LlmProxy.Hosting;
using LlmProxy.Streaming;
using LlmProxy.Telemetry;
using LlmProxy.Tests.Fakes;
using LlmProxy.Usage;
using Microsoft.Extensions.Time.Testing;

namespace LlmProxy.Tests.Usage;

public sealed class StreamUsageObserverTests
{
    private const string UsageChunk = "{\"choices\":[],\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":2,\"total_tokens\":5}}";
    private readonly FakeTimeProvider _time = new();

    private static EventVerdict See(StreamUsageObserver observer, string data)
        => observer.OnEvent(System.Text.Encoding.UTF8.GetBytes("data: " + data + "\n\n"), System.Text.Encoding.UTF8.GetBytes(data), new SseOutbox());

    [Theory]
    [InlineData(true, nameof(EventVerdict.Drop))]
    [InlineData(false, nameof(EventVerdict.Pass))]
    public void OnEvent_UsageChunk_DroppedOnlyWhenTheGatewayAskedForIt(bool strip, string expected)
    {
        var meter = new LlmRequestFeature(TestRequests.EmptySnapshot, "r", 1) { Metered = true, StripUsageChunk = strip };

        var verdict = See(new StreamUsageObserver(meter, _time), UsageChunk);

        Assert.Equal(Enum.Parse<EventVerdict>(expected), verdict);
        Assert.Equal(5, meter.ResolveUsage().Total);
    }

    [Fact]
    public void OnEvent_FirstText_SetsTimeToFirstTokenOnce()
    {
        var meter = TestRequests.Metered("r");
        var observer = new StreamUsageObserver(meter, _time);
        See(observer, "{\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\"}}]}");
        Assert.Equal(0, meter.FirstToken);

        _time.Advance(TimeSpan.FromSeconds(1));
        See(observer, "{\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hi\"}}]}");
        var first = meter.FirstToken;
        _time.Advance(TimeSpan.FromSeconds(1));
        See(observer, "{\"choices\":[{\"index\":0,\"delta\":{\"content\":\"there\"}}]}");

        Assert.Equal(_time.GetTimestamp() - _time.TimestampFrequency, first);
        Assert.Equal(first, meter.FirstToken);
    }

    [Theory]
    [InlineData(nameof(StreamEnd.Truncated), ErrorCategory.UpstreamError)]
    [InlineData(nameof(StreamEnd.TimedOut), ErrorCategory.UpstreamTimeout)]
    [InlineData(nameof(StreamEnd.Unreachable), ErrorCategory.UpstreamUnreachable)]
    [InlineData(nameof(StreamEnd.Finished), ErrorCategory.None)]
    [InlineData(nameof(StreamEnd.Stopped), ErrorCategory.None)]
    public void OnStreamEnd_End_UpstreamEndAndFailureRecorded(string end, ErrorCategory failure)
    {
        var meter = TestRequests.Metered("r");

        new StreamUsageObserver(meter, _time).OnStreamEnd(Enum.Parse<StreamEnd>(end));

        Assert.Equal(failure, meter.StreamFailure);
        Assert.Equal(_time.GetTimestamp(), meter.UpstreamEnd);
    }

    [Fact]
    public void OnOversizedEvent_TailWithUsage_UsageRead()
    {
        var meter = TestRequests.Metered("r");

        new StreamUsageObserver(meter, _time).OnOversizedEvent("xxxx\",\"usage\":{\"input_tokens\":20,\"output_tokens\":3},\"metadata\":{}}}\n\n"u8);

        Assert.Equal(23, meter.ResolveUsage().Total);
    }
}
