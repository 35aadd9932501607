using System.Text;
using LlmProxy.Hosting;
using LlmProxy.Tests.Fakes;
using LlmProxy.Usage;

namespace LlmProxy.Tests.Usage;

public sealed class UsageReaderTests
{
    private static LlmRequestFeature Meter() => TestRequests.Metered();

    [Fact]
    public void ReadBody_ChatCompletion_ReadsUsageDetailsModelIdAndFinish()
    {
        var meter = Meter();

        Assert.True(UsageReader.ReadBody("""{"id":"c1","model":"gpt-4o-2024","choices":[{"index":0,"message":{"role":"assistant","content":"abcd","tool_calls":[{"function":{"arguments":"{}"}}]},"finish_reason":"tool_calls"}],"usage":{"prompt_tokens":10,"completion_tokens":5,"total_tokens":15,"prompt_tokens_details":{"cached_tokens":4,"audio_tokens":0},"completion_tokens_details":{"reasoning_tokens":2}}}"""u8, meter));

        Assert.Equal(new TokenUsage(10, 5, 4, 2, false), meter.ResolveUsage());
        Assert.Equal("gpt-4o-2024", meter.ResponseModel);
        Assert.Equal("c1", meter.ResponseId);
        Assert.Equal("tool_calls", meter.FinishReason);
        Assert.Equal(6, meter.GeneratedTextBytes);
    }

    [Fact]
    public void ReadBodyFast_ChatCompletionWithTrickyContent_SameResultAsFullRead()
    {
        var body = """{"id":"c1","object":"chat.completion","model":"gpt-4o-2024","choices":[{"index":0,"message":{"role":"assistant","content":"say \"usage\": {\"prompt_tokens\": 999} and \"finish_reason\": \"no\""},"finish_reason":"length"}],"usage":{"prompt_tokens":10,"completion_tokens":5,"total_tokens":15,"prompt_tokens_details":{"cached_tokens":4}}}"""u8;
        var fast = Meter();
        var full = Meter();

        UsageReader.ReadBodyFast(body, fast);
        UsageReader.ReadBody(body, full);

        Assert.Equal(full.ResolveUsage(), fast.ResolveUsage());
        Assert.Equal(new TokenUsage(10, 5, 4, 0, false), fast.ResolveUsage());
        Assert.Equal("length", fast.FinishReason);
        Assert.Equal("gpt-4o-2024", fast.ResponseModel);
        Assert.Equal("c1", fast.ResponseId);
    }

    [Theory]
    [InlineData("""{"id":"c1","object":"chat.completion","model":"gpt-4o-2024","choices":[],"usage":{"prompt_tokens":1,"completion_tokens":2}}""", "gpt-4o-2024")]
    [InlineData("""{ "object" : "model", "model" : "gpt-4o-2024", "choices":[],"usage":{"prompt_tokens":1,"completion_tokens":2}}""", "gpt-4o-2024")]
    [InlineData("""{"id":"a\"model\"","model":"m","usage":{"prompt_tokens":1,"completion_tokens":2}}""", "m")]
    [InlineData("""{"meta":{"model":"inner"},"model":"outer","usage":{"prompt_tokens":1,"completion_tokens":2}}""", null)]
    [InlineData("""{"model":"gpt\u002d4o","usage":{"prompt_tokens":1,"completion_tokens":2}}""", "gpt-4o")]
    [InlineData("""{"model":"","usage":{"prompt_tokens":1,"completion_tokens":2}}""", null)]
    public void ReadBodyFast_NoDetailsWanted_ModelReadWithoutTheReaderOrFallsBack(string body, string? model)
    {
        var meter = Meter();
        meter.CaptureDetails = false;

        UsageReader.ReadBodyFast(Encoding.UTF8.GetBytes(body), meter);

        Assert.Equal(model, meter.ResponseModel);
        Assert.Null(meter.ResponseId);
        Assert.Equal(new TokenUsage(1, 2, 0, 0, false), meter.ResolveUsage());
    }

    [Fact]
    public void ReadBodyFast_NoUsage_FallsBackToFullReadForTextLength()
    {
        var meter = Meter();

        UsageReader.ReadBodyFast("""{"id":"c","choices":[{"message":{"content":"12345678"}}]}"""u8, meter);

        Assert.Null(meter.InputTokens);
        Assert.Equal(8, meter.GeneratedTextBytes);
    }

    [Fact]
    public void ReadBody_ResponsesApi_ReadsInputOutputTokenNames()
    {
        var meter = Meter();

        UsageReader.ReadBody("""{"id":"resp_1","object":"response","model":"m","output":[],"usage":{"input_tokens":7,"input_tokens_details":{"cached_tokens":1},"output_tokens":3,"output_tokens_details":{"reasoning_tokens":1},"total_tokens":10}}"""u8, meter);

        Assert.Equal(new TokenUsage(7, 3, 1, 1, false), meter.ResolveUsage());
    }

    [Fact]
    public void ReadEvent_ChatChunks_CountTextAndSpotUsageOnlyChunk()
    {
        var meter = Meter();

        UsageReader.ReadEvent("""{"id":"c","choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}],"usage":null}"""u8, meter, out var usageOnly1, out var text1);
        UsageReader.ReadEvent("""{"id":"c","choices":[{"index":0,"delta":{"content":"Hel"},"finish_reason":null}]}"""u8, meter, out _, out var text2);
        UsageReader.ReadEvent("""{"id":"c","choices":[],"usage":{"prompt_tokens":4,"completion_tokens":1,"total_tokens":5}}"""u8, meter, out var usageOnly3, out _);

        Assert.False(usageOnly1);
        Assert.False(text1);
        Assert.True(text2);
        Assert.True(usageOnly3);
        Assert.Equal(new TokenUsage(4, 1, 0, 0, false), meter.ResolveUsage());
    }

    [Fact]
    public void ReadEvent_ResponsesStream_DeltaTextAndCompletedUsage()
    {
        var meter = Meter();

        UsageReader.ReadEvent("""{"type":"response.output_text.delta","sequence_number":3,"delta":"Hi there"}"""u8, meter, out _, out var hasText);
        UsageReader.ReadEvent("""{"type":"response.completed","response":{"id":"resp_9","model":"m","usage":{"input_tokens":5,"output_tokens":2,"total_tokens":7}}}"""u8, meter, out var usageOnly, out _);

        Assert.True(hasText);
        Assert.False(usageOnly);
        Assert.Equal("resp_9", meter.ResponseId);
        Assert.Equal(new TokenUsage(5, 2, 0, 0, false), meter.ResolveUsage());
    }

    [Fact]
    public void ReadEvent_CompletionText_Counted()
    {
        var meter = Meter();

        UsageReader.ReadEvent("""{"object":"text_completion","choices":[{"index":0,"text":"12345678","finish_reason":null}]}"""u8, meter, out _, out var hasText);

        Assert.True(hasText);
        Assert.Equal(8, meter.GeneratedTextBytes);
    }

    [Theory]
    [InlineData("not json")]
    [InlineData("[1,2]")]
    [InlineData("{\"usage\":{\"prompt_tokens\":\"ten\"}}")]
    [InlineData("{\"usage\":{\"prompt_tokens\":-5,\"completion_tokens\":1e30}}")]
    public void ReadBody_OddBodies_NoUsageAndNoThrow(string body)
    {
        var meter = Meter();

        UsageReader.ReadBody(Encoding.UTF8.GetBytes(body), meter);

        Assert.Null(meter.InputTokens);
        Assert.Null(meter.OutputTokens);
    }

    [Fact]
    public void ResolveUsage_NoUsage_EstimatedFromBytes()
    {
        var meter = Meter();
        meter.GeneratedTextBytes = 41;

        meter.Body = new ArraySegment<byte>(new byte[400]);

        var usage = meter.ResolveUsage();

        Assert.Equal(new TokenUsage(100, 11, 0, 0, true), usage);
    }

    [Fact]
    public void ReadUsageObject_TailOfLargeBody_ReadsUsage()
    {
        var meter = Meter();

        UsageReader.ReadUsageObject("""{"prompt_tokens":123,"total_tokens":123}}"""u8, meter);

        Assert.Equal(123, meter.InputTokens);
    }

    [Fact]
    public void ReadEvent_TruncatedEvent_InvalidAndItsTextNotInTheTranscript()
    {
        var request = Meter();
        request.Transcript = new LlmProxy.Failover.StreamTranscript();

        var valid = UsageReader.ReadEvent("""{"choices":[{"index":0,"delta":{"content":"ghost"}}]"""u8, request, out _, out _);

        Assert.False(valid);
        Assert.Equal(0, request.Transcript.Text.Length);
    }

    [Fact]
    public void ReadEvent_TrailingGarbage_Invalid()
        => Assert.False(UsageReader.ReadEvent("""{"choices":[{"index":0,"delta":{"content":"a"}}]}}garbage"""u8, Meter(), out _, out _));

    [Fact]
    public void ReadEvent_ContentOfChoiceZero_KeptInTheTranscriptWithTheFirstChunksIdentity()
    {
        var request = Meter();
        request.Transcript = new LlmProxy.Failover.StreamTranscript();

        Assert.True(UsageReader.ReadEvent("""{"id":"c1","created":5,"model":"m1","choices":[{"index":0,"delta":{"content":"Hel"}}]}"""u8, request, out _, out _));
        Assert.True(UsageReader.ReadEvent("""{"id":"c2","created":6,"model":"m2","choices":[{"index":0,"delta":{"content":"lo"}}]}"""u8, request, out _, out _));

        Assert.Equal("Hello", System.Text.Encoding.UTF8.GetString(request.Transcript.Text));
        Assert.Equal(("c1", "m1", 5L), (request.Transcript.Id, request.Transcript.Model, request.Transcript.Created));
        Assert.False(request.Transcript.Unsupported);
    }

    [Theory]
    [InlineData("""{"choices":[{"index":1,"delta":{"content":"x"}}]}""")]
    [InlineData("""{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{}"}}]}}]}""")]
    [InlineData("""{"choices":[{"index":0,"delta":{"refusal":"no"}}]}""")]
    public void ReadEvent_WhatAContinuationCannotReproduce_TranscriptUnsupported(string json)
    {
        var request = Meter();
        request.Transcript = new LlmProxy.Failover.StreamTranscript();

        UsageReader.ReadEvent(System.Text.Encoding.UTF8.GetBytes(json), request, out _, out _);

        Assert.True(request.Transcript.Unsupported);
    }
}
