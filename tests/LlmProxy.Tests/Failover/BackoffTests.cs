using LlmProxy.Failover;

namespace LlmProxy.Tests.Failover;

public sealed class BackoffTests
{
    [Theory]
    [InlineData(1, 0.0, 125)]
    [InlineData(1, 1.0, 250)]
    [InlineData(2, 0.0, 250)]
    [InlineData(3, 0.5, 750)]
    [InlineData(10, 1.0, 4000)]
    public void Of_RetryAndRandom_HalfFixedHalfJitteredDoublingUpToTheMax(int retry, double random, double expectedMs)
        => Assert.Equal(expectedMs, Backoff.Of(retry, TimeSpan.FromMilliseconds(250), TimeSpan.FromSeconds(4), random).TotalMilliseconds, 3);

    [Fact]
    public void Of_ManyDraws_SpreadOverTheJitteredHalf()
    {
        var random = new Random(7);
        var waits = Enumerable.Range(0, 1000).Select(_ => Backoff.Of(2, TimeSpan.FromMilliseconds(100), TimeSpan.FromSeconds(10), random.NextDouble()).TotalMilliseconds).ToArray();

        Assert.All(waits, w => Assert.InRange(w, 100, 200));
        Assert.True(waits.Max() - waits.Min() > 80, "jitter spreads the waits");
    }
}
