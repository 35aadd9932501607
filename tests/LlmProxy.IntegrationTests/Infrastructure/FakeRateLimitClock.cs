using LlmProxy.RateLimiting;
using Microsoft.Extensions.Time.Testing;

namespace LlmProxy.IntegrationTests.Infrastructure;

/// <summary>Gives Redis the test's time instead of its own <c>TIME</c>, so windows move only when the test says.</summary>
public sealed class FakeRateLimitClock(FakeTimeProvider time) : RateLimitClock
{
    public override long? RedisNowMs() => time.GetUtcNow().ToUnixTimeMilliseconds();
}
