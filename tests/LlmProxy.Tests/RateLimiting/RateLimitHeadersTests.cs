using LlmProxy.RateLimiting;

namespace LlmProxy.Tests.RateLimiting;

public sealed class RateLimitHeadersTests
{
    [Theory]
    [InlineData(0, "0s")]
    [InlineData(12, "12ms")]
    [InlineData(999, "999ms")]
    [InlineData(1000, "1s")]
    [InlineData(1500, "1.5s")]
    [InlineData(59_999, "59.999s")]
    [InlineData(360_000, "6m0s")]
    [InlineData(3_723_000, "1h2m3s")]
    [InlineData(86_400_000, "24h0m0s")]
    public void GoDuration_Milliseconds_FormatsLikeGo(long milliseconds, string expected)
    {
        Assert.Equal(expected, RateLimitHeaders.GoDuration(milliseconds));
    }
}
