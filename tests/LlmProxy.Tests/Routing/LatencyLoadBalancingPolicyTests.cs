using LlmProxy.Routing;
using Microsoft.Extensions.Time.Testing;
using Yarp.ReverseProxy.Model;

namespace LlmProxy.Tests.Routing;

public sealed class LatencyLoadBalancingPolicyTests
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 9, 1, 0, 0, 0, TimeSpan.Zero));

    [Fact]
    public void PickDestination_TimeToFirstTokenTenTimesApart_PrefersTheFasterAndStillMeasuresTheSlower()
    {
        var stats = new TargetStats(_time);
        var (context, destinations) = BalancingFixture.Setup("latency", (1, 0), (1, 0));
        var latency = new[] { TimeSpan.FromMilliseconds(100), TimeSpan.FromMilliseconds(1_000) };
        stats.Record(destinations[0].DestinationId, latency[0], failed: false);
        stats.Record(destinations[1].DestinationId, latency[1], failed: false);
        var policy = new LatencyLoadBalancingPolicy(stats, new Random(42));
        var counts = new int[2];

        // 10,000 requests, one every 10 ms (100 s), each measured on the target it went to.
        for (var i = 0; i < 10_000; i++)
        {
            var picked = Array.IndexOf(destinations, policy.PickDestination(context, null!, destinations));
            counts[picked]++;
            stats.Record(destinations[picked].DestinationId, latency[picked], failed: false);
            _time.Advance(TimeSpan.FromMilliseconds(10));
        }

        // The slower one is measured again once it has no sample for StaleAfter (10 s): about 10 times in 100 s.
        Assert.True(counts[0] >= 8_000, $"faster target got {counts[0]} of 10000");
        Assert.InRange(counts[1], 5, 20);
    }

    [Fact]
    public void PickDestination_FasterTargetLoaded_InFlightRequestsCountAgainstIt()
    {
        var stats = new TargetStats(_time);
        var (context, destinations) = BalancingFixture.Setup("latency", (1, 0), (1, 0));
        stats.Record(destinations[0].DestinationId, TimeSpan.FromMilliseconds(100), failed: false);
        stats.Record(destinations[1].DestinationId, TimeSpan.FromMilliseconds(1_000), failed: false);
        var policy = new LatencyLoadBalancingPolicy(stats, new Random(5));

        destinations[0].ConcurrentRequestCount = 8;
        var loaded = policy.PickDestination(context, null!, destinations);
        destinations[0].ConcurrentRequestCount = 10;
        var overloaded = policy.PickDestination(context, null!, destinations);

        // 100 × (1 + 8) = 900 < 1000; 100 × (1 + 10) = 1100 > 1000.
        Assert.Same(destinations[0], loaded);
        Assert.Same(destinations[1], overloaded);
    }

    [Fact]
    public void PickDestination_FasterTargetFailing_ErrorRateOutweighsItsSpeed()
    {
        var stats = new TargetStats(_time);
        var (context, destinations) = BalancingFixture.Setup("latency", (1, 0), (1, 0));
        stats.Record(destinations[0].DestinationId, TimeSpan.FromMilliseconds(100), failed: false);
        stats.Record(destinations[1].DestinationId, TimeSpan.FromMilliseconds(300), failed: false);
        _time.Advance(TimeSpan.FromSeconds(5));
        stats.Record(destinations[0].DestinationId, TimeSpan.FromMilliseconds(20), failed: true);
        var policy = new LatencyLoadBalancingPolicy(stats, new Random(9));

        var counts = BalancingFixture.Count(() => policy.PickDestination(context, null!, destinations), destinations, 1_000);

        // Error rate 1 − e^(−0.5) ≈ 0.39: 100 × (1 + 10 × 0.39) ≈ 490 > 300.
        Assert.Equal([0, 1_000], counts);
    }

    [Fact]
    public void PickDestination_ThreeTargets_TheSlowestNeverWinsADraw()
    {
        var stats = new TargetStats(_time);
        var (context, destinations) = BalancingFixture.Setup("latency", (1, 0), (1, 0), (1, 0));
        stats.Record(destinations[0].DestinationId, TimeSpan.FromMilliseconds(100), failed: false);
        stats.Record(destinations[1].DestinationId, TimeSpan.FromMilliseconds(200), failed: false);
        stats.Record(destinations[2].DestinationId, TimeSpan.FromMilliseconds(1_000), failed: false);
        var policy = new LatencyLoadBalancingPolicy(stats, new Random(8));

        var counts = BalancingFixture.Count(() => policy.PickDestination(context, null!, destinations), destinations, 9_000);

        // Two distinct of three drawn evenly: the fastest is in 2/3 of the pairs and wins each; the middle one wins
        // only the pair without the fastest (1/3). 6000 ± 300 is more than six deviations (sd 45).
        Assert.InRange(counts[0], 5_700, 6_300);
        Assert.Equal(0, counts[2]);
    }

    [Fact]
    public void PickDestination_UnmeasuredTarget_IsTriedWhileIdleAndNotPiledOn()
    {
        var stats = new TargetStats(_time);
        var (context, destinations) = BalancingFixture.Setup("latency", (1, 0), (1, 0));
        stats.Record(destinations[0].DestinationId, TimeSpan.FromMilliseconds(100), failed: false);
        var policy = new LatencyLoadBalancingPolicy(stats, new Random(4));

        var idle = policy.PickDestination(context, null!, destinations);
        destinations[1].ConcurrentRequestCount = 1;
        var probing = policy.PickDestination(context, null!, destinations);

        Assert.Same(destinations[1], idle);
        Assert.Same(destinations[0], probing);
    }

    [Fact]
    public void PickDestination_SingleDestination_ReturnsItWithoutStats()
    {
        var stats = new TargetStats(_time);
        var (context, destinations) = BalancingFixture.Setup("latency", (1, 0));
        var policy = new LatencyLoadBalancingPolicy(stats, new Random(4));

        Assert.Same(destinations[0], policy.PickDestination(context, null!, destinations));
        Assert.Null(policy.PickDestination(context, null!, Array.Empty<DestinationState>()));
        Assert.Null(stats.Get(destinations[0].DestinationId));
    }
}
