using LlmProxy.Failover;
using Yarp.ReverseProxy.Forwarder;

namespace LlmProxy.Tests.Failover;

public sealed class AttemptClassifierTests
{
    private static UpstreamFailure Failure(int status, string? code = null) => new(status, [], status, code, null, null, null);

    [Theory]
    [InlineData(429, null, nameof(AttemptOutcome.Throttled))]
    [InlineData(500, null, nameof(AttemptOutcome.ServerError))]
    [InlineData(502, null, nameof(AttemptOutcome.ServerError))]
    [InlineData(503, null, nameof(AttemptOutcome.ServerError))]
    [InlineData(504, null, nameof(AttemptOutcome.ServerError))]
    [InlineData(529, null, nameof(AttemptOutcome.ServerError))]
    [InlineData(408, null, nameof(AttemptOutcome.ServerError))]
    [InlineData(400, "context_length_exceeded", nameof(AttemptOutcome.ContextWindow))]
    [InlineData(400, "content_policy_violation", nameof(AttemptOutcome.Refused))]
    [InlineData(400, null, nameof(AttemptOutcome.Refused))]
    [InlineData(401, null, nameof(AttemptOutcome.Refused))]
    [InlineData(403, null, nameof(AttemptOutcome.Refused))]
    [InlineData(404, null, nameof(AttemptOutcome.Refused))]
    [InlineData(413, null, nameof(AttemptOutcome.Refused))]
    [InlineData(422, null, nameof(AttemptOutcome.Refused))]
    public void Classify_ProviderError_RetriedOnlyWhenAnotherAttemptCanHelp(int status, string? code, string expectedName)
    {
        var expected = Enum.Parse<AttemptOutcome>(expectedName);
        var outcome = AttemptClassifier.Classify(clientGone: false, started: false, cut: false, timedOut: false, invalidAnswer: false, ForwarderError.None, Failure(status, code));

        Assert.Equal(expected, outcome);
    }

    [Theory]
    [InlineData(ForwarderError.Request, nameof(AttemptOutcome.Unreachable))]
    [InlineData(ForwarderError.ResponseHeaders, nameof(AttemptOutcome.Unreachable))]
    [InlineData(ForwarderError.ResponseBodyDestination, nameof(AttemptOutcome.Unreachable))]
    [InlineData(ForwarderError.NoAvailableDestinations, nameof(AttemptOutcome.Unreachable))]
    [InlineData(ForwarderError.RequestTimedOut, nameof(AttemptOutcome.TimedOut))]
    [InlineData(ForwarderError.RequestBodyClient, nameof(AttemptOutcome.Refused))]
    [InlineData(ForwarderError.None, nameof(AttemptOutcome.Answered))]
    public void Classify_ForwarderError_ConnectFailuresRetried(ForwarderError error, string expected)
        => Assert.Equal(Enum.Parse<AttemptOutcome>(expected), AttemptClassifier.Classify(false, false, false, false, false, error, null));

    [Fact]
    public void Classify_ResponseStarted_AnsweredWhateverTheErrorUnlessCut()
    {
        Assert.Equal(AttemptOutcome.Answered, AttemptClassifier.Classify(false, started: true, cut: false, false, false, ForwarderError.ResponseBodyDestination, Failure(503)));
        Assert.Equal(AttemptOutcome.Cut, AttemptClassifier.Classify(false, started: true, cut: true, false, false, ForwarderError.None, null));
    }

    [Fact]
    public void Classify_ClientGone_WinsOverEverything()
        => Assert.Equal(AttemptOutcome.ClientGone, AttemptClassifier.Classify(clientGone: true, false, true, true, true, ForwarderError.Request, Failure(503)));

    [Fact]
    public void Classify_TimerFiredBeforeHeaders_TimedOut()
        => Assert.Equal(AttemptOutcome.TimedOut, AttemptClassifier.Classify(false, false, false, timedOut: true, false, ForwarderError.RequestCanceled, null));

    [Fact]
    public void Classify_TranslatorRefused_Unsupported()
        => Assert.Equal(AttemptOutcome.Unsupported,
            AttemptClassifier.Classify(false, false, false, false, false, ForwarderError.None, UpstreamFailure.Refused("no embeddings here", null)));
}
