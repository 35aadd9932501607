using LlmProxy.Failover;

namespace LlmProxy.Tests.Failover;

public sealed class RetryAfterTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 2, 12, 0, 0, TimeSpan.Zero);

    private static TimeSpan? Of(params (string Name, string Value)[] headers)
    {
        using var response = new HttpResponseMessage(System.Net.HttpStatusCode.TooManyRequests);
        foreach (var (name, value) in headers)
        {
            response.Headers.TryAddWithoutValidation(name, value);
        }

        return RetryAfter.Of(response, Now);
    }

    [Fact]
    public void Of_RetryAfterMs_WinsOverRetryAfter()
        => Assert.Equal(TimeSpan.FromMilliseconds(350), Of(("retry-after-ms", "350"), ("Retry-After", "20")));

    [Fact]
    public void Of_Seconds_Read()
        => Assert.Equal(TimeSpan.FromSeconds(2), Of(("Retry-After", "2")));

    [Fact]
    public void Of_HttpDate_TheTimeUntilThen()
        => Assert.Equal(TimeSpan.FromSeconds(30), Of(("Retry-After", "Wed, 02 Dec 2026 12:00:30 GMT")));

    [Fact]
    public void Of_DateInThePast_Zero()
        => Assert.Equal(TimeSpan.Zero, Of(("Retry-After", "Wed, 02 Dec 2026 11:00:00 GMT")));

    [Theory]
    [InlineData("soon")]
    [InlineData("-5")]
    [InlineData("")]
    public void Of_Unreadable_Null(string value)
        => Assert.Null(Of(("Retry-After", value)));

    [Fact]
    public void Of_Absent_Null() => Assert.Null(Of());

    [Fact]
    public void Of_Huge_CappedAtTheMaximum()
        => Assert.Equal(RetryAfter.Max, Of(("Retry-After", "1e12")));
}
