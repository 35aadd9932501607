using LlmProxy.Tests.Fakes;
using LlmProxy.Usage;

namespace LlmProxy.Tests.Usage;

public sealed class AttemptUsageTests
{
    [Fact]
    public void TakeThenAddTo_TwoAttempts_MeterChargedForBoth()
    {
        var meter = TestRequests.Metered("r");
        var earlier = new AttemptUsage();
        meter.SetUsage(30, 12, 4, 1);

        earlier.Take(meter);
        Assert.Null(meter.InputTokens);
        meter.SetUsage(31, 13, 0, 2);
        earlier.AddTo(meter);

        Assert.Equal(new TokenUsage(61, 25, 4, 3, false), meter.ResolveUsage());
    }

    [Fact]
    public void AddTo_EarlierAttemptWithoutUsage_LastAttemptUnchanged()
    {
        var meter = TestRequests.Metered("r");
        var earlier = new AttemptUsage();
        earlier.Take(meter);
        meter.SetUsage(31, 13, 0, 0);

        earlier.AddTo(meter);

        Assert.Equal(44, meter.ResolveUsage().Total);
    }
}
