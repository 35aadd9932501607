using LlmProxy.Auth;
using LlmProxy.Hosting;
using LlmProxy.Routing;
using LlmProxy.Tests.Configuration;
using Microsoft.Extensions.Time.Testing;
using Yarp.ReverseProxy.Forwarder;

namespace LlmProxy.Tests.Routing;

public sealed class TargetStatsTests
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 9, 1, 0, 0, 0, TimeSpan.Zero));

    [Fact]
    public void Record_SampleOneTimeConstantLater_MovesTheAverageByOneMinusOneOverE()
    {
        var stats = new TargetStats(_time);
        stats.Record("d", TimeSpan.FromMilliseconds(100), failed: false);
        _time.Advance(TargetStats.Decay);

        stats.Record("d", TimeSpan.FromMilliseconds(200), failed: false);

        var stat = stats.Get("d")!;
        Assert.Equal(100 + (100 * (1 - Math.Exp(-1))), stat.LatencyMs, 6);
        Assert.Equal(0, stat.ErrorRate);
    }

    [Fact]
    public void Record_SamplesAtTheSameInstant_OnlyTheFirstCounts()
    {
        var stats = new TargetStats(_time);

        stats.Record("d", TimeSpan.FromMilliseconds(100), failed: false);
        stats.Record("d", TimeSpan.FromMilliseconds(900), failed: false);

        // Time-weighted: a burst weighs what its time span weighs, not what its count does.
        Assert.Equal(100, stats.Get("d")!.LatencyMs);
    }

    [Fact]
    public void Record_QuickFailure_RaisesTheErrorRateButNeverLowersTheLatency()
    {
        var stats = new TargetStats(_time);
        stats.Record("d", TimeSpan.FromMilliseconds(500), failed: false);
        _time.Advance(TimeSpan.FromSeconds(30));

        stats.Record("d", TimeSpan.FromMilliseconds(5), failed: true);

        var stat = stats.Get("d")!;
        Assert.Equal(500, stat.LatencyMs);
        Assert.Equal(1 - Math.Exp(-3), stat.ErrorRate, 6);
    }

    [Fact]
    public void Record_SlowFailure_RaisesTheLatency()
    {
        var stats = new TargetStats(_time);
        stats.Record("d", TimeSpan.FromMilliseconds(500), failed: false);
        _time.Advance(TargetStats.Decay);

        stats.Record("d", TimeSpan.FromSeconds(10), failed: true);

        Assert.True(stats.Get("d")!.LatencyMs > 5_000);
    }

    [Fact]
    public void Score_MeasuredTarget_IsLatencyTimesErrorPenaltyTimesInFlight()
    {
        var stats = new TargetStats(_time);
        stats.Record("d", TimeSpan.FromMilliseconds(200), failed: false);
        _time.Advance(TargetStats.Decay);
        stats.Record("d", TimeSpan.FromMilliseconds(200), failed: true);
        var errorRate = 1 - Math.Exp(-1);

        Assert.Equal(200 * (1 + (TargetStats.ErrorPenalty * errorRate)) * 3, stats.Score("d", inFlight: 2), 6);
    }

    [Fact]
    public void Score_NoSampleForStaleAfter_CountsAsUnmeasured()
    {
        var stats = new TargetStats(_time);
        stats.Record("d", TimeSpan.FromSeconds(5), failed: false);

        var fresh = stats.Score("d", 0);
        _time.Advance(TargetStats.StaleAfter + TimeSpan.FromMilliseconds(1));

        Assert.Equal(5_000, fresh);
        Assert.Equal(0, stats.Score("d", 0));
        Assert.Equal(2 * TargetStats.UnmeasuredCost, stats.Score("d", 2));
        Assert.Equal(0, stats.Score("never-seen", 0));
    }

    [Fact]
    public void Record_MoreTargetsThanTheBound_StaysBounded()
    {
        var stats = new TargetStats(_time);

        for (var i = 0; i <= TargetStats.MaxTargets; i++)
        {
            stats.Record("d" + i, TimeSpan.FromMilliseconds(1), failed: false);
        }

        Assert.Null(stats.Get("d0"));
        Assert.NotNull(stats.Get("d" + TargetStats.MaxTargets));
    }

    [Theory]
    [InlineData(200, ForwarderError.None, false, true, false)]
    [InlineData(503, ForwarderError.None, false, true, true)]
    [InlineData(429, ForwarderError.None, false, true, true)]
    [InlineData(0, ForwarderError.Request, false, true, true)]
    [InlineData(400, ForwarderError.None, false, false, false)]
    [InlineData(404, ForwarderError.None, false, false, false)]
    [InlineData(200, ForwarderError.ResponseBodyClient, false, false, false)]
    [InlineData(200, ForwarderError.None, true, false, false)]
    public void RecordAttempt_Outcome_RecordsWhatItSaysAboutTheTarget(int status, ForwarderError error, bool clientLeft, bool recorded, bool failed)
    {
        var stats = new TargetStats(_time);
        using var client = new CancellationTokenSource();
        var feature = Feature(client.Token);
        var started = _time.GetTimestamp();
        _time.Advance(TimeSpan.FromMilliseconds(40));
        if (status != 0)
        {
            feature.UpstreamHeaders = _time.GetTimestamp();
            feature.UpstreamStatus = status;
        }

        _time.Advance(TimeSpan.FromMilliseconds(500));
        if (clientLeft)
        {
            client.Cancel();
        }

        stats.RecordAttempt(feature, "d", started, error);

        var stat = stats.Get("d");
        Assert.Equal(recorded, stat is not null);
        if (stat is not null)
        {
            Assert.Equal(failed ? 1 : 0, stat.ErrorRate);
            Assert.Equal(status == 0 ? 540 : 40, stat.LatencyMs, 6);
        }
    }

    [Fact]
    public void RecordAttempt_StreamWithFirstToken_MeasuresTheFirstToken()
    {
        var stats = new TargetStats(_time);
        var feature = Feature(CancellationToken.None);
        var started = _time.GetTimestamp();
        _time.Advance(TimeSpan.FromMilliseconds(30));
        feature.UpstreamHeaders = _time.GetTimestamp();
        feature.UpstreamStatus = 200;
        _time.Advance(TimeSpan.FromMilliseconds(270));
        feature.FirstToken = _time.GetTimestamp();
        _time.Advance(TimeSpan.FromSeconds(4));

        stats.RecordAttempt(feature, "d", started, ForwarderError.None);

        Assert.Equal(300, stats.Get("d")!.LatencyMs, 6);
    }

    [Fact]
    public void RecordAttempt_FirstTokenOfAnEarlierAttempt_MeasuresThisAttemptsHeaders()
    {
        var stats = new TargetStats(_time);
        var feature = Feature(CancellationToken.None);
        feature.FirstToken = _time.GetTimestamp();
        _time.Advance(TimeSpan.FromSeconds(1));
        var started = _time.GetTimestamp();
        _time.Advance(TimeSpan.FromMilliseconds(60));
        feature.UpstreamHeaders = _time.GetTimestamp();
        feature.UpstreamStatus = 200;

        stats.RecordAttempt(feature, "d", started, ForwarderError.None);

        Assert.Equal(60, stats.Get("d")!.LatencyMs, 6);
    }

    private static LlmRequestFeature Feature(CancellationToken client)
    {
        var snapshot = SnapshotBuilderTests.Builder().Build(SnapshotBuilderTests.Parse("""
            {
              "providers": { "local": { "type": "openai-compatible", "base_url": "http://localhost:8000/v1" } },
              "models": { "m": { "targets": [ { "provider": "local" } ] } },
              "auth": { "mode": "none" }
            }
            """), 1).Snapshot!;
        return new LlmRequestFeature(snapshot, "r", 1) { Key = VirtualKey.Anonymous, ClientAborted = client };
    }
}
