using LlmProxy.Tests.Fakes;
using LlmProxy.Usage;

namespace LlmProxy.Tests.Hosting;

public sealed class LlmRequestFeatureTests
{
    [Fact]
    public void NextAttempt_TwoAttemptsWithUsage_ChargedForBoth()
    {
        var request = TestRequests.Metered();
        request.SetUsage(30, 12, 4, 1);

        request.NextAttempt(answered: true);
        Assert.Null(request.InputTokens);
        request.SetUsage(31, 13, 0, 2);

        Assert.Equal(new TokenUsage(61, 25, 4, 3, false), request.ResolveUsage());
        Assert.Equal(2, request.Attempt);
    }

    [Fact]
    public void NextAttempt_EarlierAttemptWithoutUsage_ChargedItsEstimate()
    {
        var request = TestRequests.Metered();
        request.Body = new ArraySegment<byte>(new byte[400]);
        request.GeneratedTextBytes = 40;

        request.NextAttempt(answered: true);
        request.SetUsage(31, 13, 0, 0);

        Assert.Equal(new TokenUsage(131, 23, 0, 0, true), request.ResolveUsage());
    }

    [Fact]
    public void NextAttempt_LastAttemptWithoutUsage_ItsEstimateAddedAndMarked()
    {
        var request = TestRequests.Metered();
        request.Body = new ArraySegment<byte>(new byte[400]);
        request.SetUsage(30, 12, 0, 0);
        request.GeneratedTextBytes = 48;

        request.NextAttempt(answered: true);
        request.GeneratedTextBytes = 400;

        // The last attempt's text is its own (not the first's 48 bytes added again): 400 / 4 = 100 tokens.
        Assert.Equal(new TokenUsage(130, 112, 0, 0, true), request.ResolveUsage());
    }

    [Fact]
    public void NextAttempt_AnswerDetails_DescribeTheNextAnswerOnly()
    {
        var request = TestRequests.Metered();
        request.ResponseId = "chatcmpl-first";
        request.ResponseModel = "first-model";
        request.FinishReason = "stop";
        request.FirstToken = 5;
        request.UpstreamStart = 3;
        request.GatewayError = LlmProxy.Errors.LlmError.StructuredOutputInvalid;

        request.NextAttempt(answered: true);

        Assert.Null(request.ResponseId);
        Assert.Null(request.ResponseModel);
        Assert.Null(request.FinishReason);
        Assert.Equal(0, request.FirstToken);
        Assert.Null(request.GatewayError);
        // The upstream time of a retried request covers all its attempts.
        Assert.Equal(3, request.UpstreamStart);
    }

    [Fact]
    public void NextAttempt_FailedAttemptWithoutUsage_NothingCharged()
    {
        var request = TestRequests.Metered();
        request.Body = new ArraySegment<byte>(new byte[400]);

        request.NextAttempt(answered: false);
        request.SetUsage(31, 13, 0, 0);

        Assert.Equal(new TokenUsage(31, 13, 0, 0, false), request.ResolveUsage());
        Assert.Equal(1, request.AnswersAsked);
        Assert.Equal(2, request.Attempt);
    }

    [Fact]
    public void ResolveUsage_OneAttemptWithoutUsage_EstimatedFromBodyAndText()
    {
        var request = TestRequests.Metered();
        request.Body = new ArraySegment<byte>(new byte[400]);
        request.GeneratedTextBytes = 41;

        Assert.Equal(new TokenUsage(100, 11, 0, 0, true), request.ResolveUsage());
    }
}
