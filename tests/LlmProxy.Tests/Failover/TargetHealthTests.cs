using LlmProxy.Configuration;
using LlmProxy.Failover;
using Microsoft.Extensions.Time.Testing;

namespace LlmProxy.Tests.Failover;

public sealed class TargetHealthTests
{
    private static readonly HealthPolicy Policy = new()
    {
        FailuresToOpen = 3,
        ThrottlesToOpen = 2,
        Cooldown = TimeSpan.FromSeconds(30),
        MaxCooldown = TimeSpan.FromSeconds(100),
    };

    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 10, 1, 12, 0, 0, TimeSpan.Zero));
    private readonly ModelTarget _target;
    private readonly ModelTarget _other;
    private readonly ModelRoute _model;
    private readonly TargetHealth _health;

    public TargetHealthTests()
    {
        var provider = new ProviderRuntime { Name = "primary", Type = ProviderTypes.OpenAICompatible, Address = "http://primary.test/v1" };
        _target = new ModelTarget("chat#0:primary@http://primary.test/v1", provider, "upstream", 1);
        _other = new ModelTarget("chat#1:primary@http://primary.test/v1", provider, "upstream", 1);
        _model = new ModelRoute
        {
            Name = "chat",
            ClusterId = "model:chat",
            Targets = [_target, _other],
            Aliases = [],
            Timeout = TimeSpan.FromSeconds(60),
            Failover = FailoverPlan.Single with { Health = Policy },
            Created = 0,
        };
        _health = new TargetHealth(_time);
    }

    private DateTimeOffset Now => _time.GetUtcNow();

    private void Fail(int times, AttemptOutcome outcome = AttemptOutcome.ServerError, TimeSpan? retryAfter = null)
    {
        for (var i = 0; i < times; i++)
        {
            _health.Report(_model, _target, outcome, retryAfter, Now);
        }
    }

    private void Open()
    {
        Fail(Policy.FailuresToOpen);
        Assert.Equal(TargetCircuitState.Open, _health.StateOf(_target.DestinationId, Now));
    }

    [Fact]
    public void Any_NoFailureReported_FalseAndEveryTargetAvailable()
    {
        _health.Report(_model, _target, AttemptOutcome.Answered, null, Now);

        Assert.False(_health.Any);
        Assert.True(_health.IsAvailable(_target.DestinationId, Now));
        Assert.True(_health.TryEnter(_target.DestinationId, Now, out var probe));
        Assert.False(probe);
    }

    [Theory]
    [InlineData("ServerError")]
    [InlineData("Unreachable")]
    [InlineData("TimedOut")]
    [InlineData("Cut")]
    public void Report_FailuresToOpenInARow_OpensOnlyAtTheThreshold(string kind)
    {
        var outcome = Enum.Parse<AttemptOutcome>(kind);
        Fail(Policy.FailuresToOpen - 1, outcome);

        Assert.Equal(TargetCircuitState.Closed, _health.StateOf(_target.DestinationId, Now));
        Assert.True(_health.IsAvailable(_target.DestinationId, Now));
        Assert.False(_health.Any);

        Fail(1, outcome);

        Assert.Equal(TargetCircuitState.Open, _health.StateOf(_target.DestinationId, Now));
        Assert.False(_health.IsAvailable(_target.DestinationId, Now));
        Assert.True(_health.Any);
        // Only the failing target is out.
        Assert.True(_health.IsAvailable(_other.DestinationId, Now));
    }

    [Theory]
    [InlineData("Answered")]
    [InlineData("Refused")]
    [InlineData("ContextWindow")]
    [InlineData("InvalidAnswer")]
    public void Report_AnswerBetweenFailures_StartsTheCountAgain(string kind)
    {
        var answered = Enum.Parse<AttemptOutcome>(kind);
        Fail(Policy.FailuresToOpen - 1);
        _health.Report(_model, _target, answered, null, Now);
        Fail(Policy.FailuresToOpen - 1);

        Assert.Equal(TargetCircuitState.Closed, _health.StateOf(_target.DestinationId, Now));
    }

    [Fact]
    public void TryEnter_OpenBeforeTheCooldownEnds_RefusedEveryTime()
    {
        Open();

        _time.Advance(Policy.Cooldown - TimeSpan.FromMilliseconds(1));

        Assert.False(_health.TryEnter(_target.DestinationId, Now, out _));
        Assert.False(_health.TryEnter(_target.DestinationId, Now, out _));
        Assert.Equal(TargetCircuitState.Open, _health.StateOf(_target.DestinationId, Now));
    }

    [Fact]
    public async Task TryEnter_HalfOpenConcurrentCallers_ExactlyOneProbe()
    {
        Open();
        _time.Advance(Policy.Cooldown);
        Assert.True(_health.IsAvailable(_target.DestinationId, Now));
        var entered = 0;
        var probes = 0;
        using var start = new Barrier(16);

        var callers = Enumerable.Range(0, 16).Select(_ => Task.Factory.StartNew(() =>
        {
            start.SignalAndWait();
            for (var i = 0; i < 100; i++)
            {
                if (_health.TryEnter(_target.DestinationId, Now, out var probe))
                {
                    Interlocked.Increment(ref entered);
                    if (probe)
                    {
                        Interlocked.Increment(ref probes);
                    }
                }
            }
        }, TaskCreationOptions.LongRunning)).ToArray();
        await Task.WhenAll(callers);

        Assert.Equal(1, entered);
        Assert.Equal(1, probes);
        Assert.Equal(TargetCircuitState.HalfOpen, _health.StateOf(_target.DestinationId, Now));
        Assert.False(_health.IsAvailable(_target.DestinationId, Now));
    }

    [Fact]
    public void Report_ProbeAnswered_ClosesAndBackInRotation()
    {
        Open();
        _time.Advance(Policy.Cooldown);
        Assert.True(_health.TryEnter(_target.DestinationId, Now, out var probe));
        Assert.True(probe);

        _health.Report(_model, _target, AttemptOutcome.Answered, null, Now);

        Assert.Equal(TargetCircuitState.Closed, _health.StateOf(_target.DestinationId, Now));
        Assert.False(_health.Any);
        Assert.True(_health.TryEnter(_target.DestinationId, Now, out probe));
        Assert.False(probe);
        Assert.True(_health.TryEnter(_target.DestinationId, Now, out _));
    }

    [Fact]
    public void Report_ProbeFailed_OpensAgainWithTheCooldownDoubledUpToTheMaximum()
    {
        Open();
        var expected = new[] { 60, 100, 100 };
        foreach (var seconds in expected)
        {
            _time.Advance(_health.AvailableAt(_target.DestinationId, Now) - Now);
            Assert.True(_health.TryEnter(_target.DestinationId, Now, out var probe));
            Assert.True(probe);

            _health.Report(_model, _target, AttemptOutcome.ServerError, null, Now);

            Assert.Equal(TargetCircuitState.Open, _health.StateOf(_target.DestinationId, Now));
            Assert.Equal(Now + TimeSpan.FromSeconds(seconds), _health.AvailableAt(_target.DestinationId, Now));
            _time.Advance(TimeSpan.FromSeconds(seconds) - TimeSpan.FromMilliseconds(1));
            Assert.False(_health.TryEnter(_target.DestinationId, Now, out _));
            _time.Advance(TimeSpan.FromMilliseconds(1));
            Assert.Equal(TargetCircuitState.HalfOpen, _health.StateOf(_target.DestinationId, Now));
        }

        // A success resets the cooldown: the next opening is the first one again.
        Assert.True(_health.TryEnter(_target.DestinationId, Now, out _));
        _health.Report(_model, _target, AttemptOutcome.Answered, null, Now);
        Fail(Policy.FailuresToOpen);
        Assert.Equal(Now + Policy.Cooldown, _health.AvailableAt(_target.DestinationId, Now));
    }

    [Fact]
    public void Report_ThrottlesToOpenInARow_Opens()
    {
        Fail(Policy.ThrottlesToOpen - 1, AttemptOutcome.Throttled);
        Assert.Equal(TargetCircuitState.Closed, _health.StateOf(_target.DestinationId, Now));

        Fail(1, AttemptOutcome.Throttled);

        Assert.Equal(TargetCircuitState.Open, _health.StateOf(_target.DestinationId, Now));
        Assert.Equal(Now + Policy.Cooldown, _health.AvailableAt(_target.DestinationId, Now));
    }

    [Fact]
    public void Report_OpenedByThrottlesWithALongerRetryAfter_CooldownIsTheRetryAfter()
    {
        Fail(Policy.ThrottlesToOpen, AttemptOutcome.Throttled, TimeSpan.FromSeconds(90));

        _time.Advance(Policy.Cooldown);
        Assert.False(_health.TryEnter(_target.DestinationId, Now, out _));

        _time.Advance(TimeSpan.FromSeconds(60));
        Assert.True(_health.TryEnter(_target.DestinationId, Now, out var probe));
        Assert.True(probe);
    }

    [Theory]
    [InlineData("Throttled")]
    [InlineData("ServerError")]
    public void Report_RetryAfterBelowTheThreshold_HoldsTheTargetUntilThenWithoutOpening(string kind)
    {
        var outcome = Enum.Parse<AttemptOutcome>(kind);
        Fail(1, outcome, TimeSpan.FromSeconds(10));

        Assert.Equal(TargetCircuitState.Closed, _health.StateOf(_target.DestinationId, Now));
        Assert.True(_health.Any);
        Assert.False(_health.IsAvailable(_target.DestinationId, Now));
        Assert.Equal(Now + TimeSpan.FromSeconds(10), _health.AvailableAt(_target.DestinationId, Now));

        _time.Advance(TimeSpan.FromSeconds(10));

        Assert.True(_health.TryEnter(_target.DestinationId, Now, out var probe));
        Assert.False(probe);
        Assert.False(_health.Any);
    }

    [Fact]
    public void Report_ShorterRetryAfterLater_KeepsTheLongerHold()
    {
        Fail(1, AttemptOutcome.Throttled, TimeSpan.FromSeconds(20));
        _health.Report(_model, _target, AttemptOutcome.Answered, null, Now);
        Fail(1, AttemptOutcome.ServerError, TimeSpan.FromSeconds(5));

        Assert.Equal(Now + TimeSpan.FromSeconds(20), _health.AvailableAt(_target.DestinationId, Now));
    }

    [Fact]
    public void Report_ClientGoneDuringTheProbe_FreesTheProbeSlot()
    {
        Open();
        _time.Advance(Policy.Cooldown);
        Assert.True(_health.TryEnter(_target.DestinationId, Now, out _));
        Assert.False(_health.TryEnter(_target.DestinationId, Now, out _));

        _health.Report(_model, _target, AttemptOutcome.ClientGone, null, Now);

        Assert.True(_health.TryEnter(_target.DestinationId, Now, out var probe));
        Assert.True(probe);
    }

    [Fact]
    public void TryEnter_ProbeNeverReported_SlotFreeAfterTheLongestCooldown()
    {
        Open();
        _time.Advance(Policy.Cooldown);
        Assert.True(_health.TryEnter(_target.DestinationId, Now, out _));

        _time.Advance(Policy.MaxCooldown - TimeSpan.FromMilliseconds(1));
        Assert.False(_health.TryEnter(_target.DestinationId, Now, out _));
        _time.Advance(TimeSpan.FromMilliseconds(1));

        Assert.True(_health.TryEnter(_target.DestinationId, Now, out var probe));
        Assert.True(probe);
    }

    [Fact]
    public void Tripped_CircuitOpensOrHoldSet_RaisedWithHowLong()
    {
        var tripped = new List<(string Id, bool Open, TimeSpan For)>();
        _health.Tripped += (id, open, duration) => tripped.Add((id, open, duration));

        Fail(1, AttemptOutcome.Throttled, TimeSpan.FromSeconds(4));
        Fail(1, AttemptOutcome.Throttled);

        Assert.Equal([(_target.DestinationId, false, TimeSpan.FromSeconds(4)), (_target.DestinationId, true, Policy.Cooldown)], tripped);
    }

    [Fact]
    public void Share_AnotherReplicaOpened_OutForThatLongThenOneProbe()
    {
        _health.Share(_model, _target, open: true, TimeSpan.FromSeconds(5), Now);

        Assert.Equal(TargetCircuitState.Open, _health.StateOf(_target.DestinationId, Now));
        Assert.False(_health.IsAvailable(_target.DestinationId, Now));
        _time.Advance(TimeSpan.FromSeconds(5));
        Assert.True(_health.TryEnter(_target.DestinationId, Now, out var probe));
        Assert.True(probe);
        Assert.False(_health.TryEnter(_target.DestinationId, Now, out _));
    }

    [Fact]
    public void Share_AnotherReplicaHeld_OutUntilThenStillClosed()
    {
        var tripped = 0;
        _health.Tripped += (_, _, _) => tripped++;

        _health.Share(_model, _target, open: false, TimeSpan.FromSeconds(3), Now);

        Assert.False(_health.IsAvailable(_target.DestinationId, Now));
        Assert.Equal(TargetCircuitState.Closed, _health.StateOf(_target.DestinationId, Now));
        _time.Advance(TimeSpan.FromSeconds(3));
        Assert.True(_health.IsAvailable(_target.DestinationId, Now));
        // What was learnt from another replica is not published again.
        Assert.Equal(0, tripped);
    }

    [Theory]
    [InlineData("chat", "chat#0:primary@http://primary.test/v1", "chat#0")]
    [InlineData("a:b", "a:b#12:p@http://x:1/v1", "a:b#12")]
    [InlineData("other", "chat#0:primary@http://primary.test/v1", "chat#0:primary@http://primary.test/v1")]
    public void LabelOf_DestinationId_ModelAndIndex(string model, string destinationId, string expected)
        => Assert.Equal(expected, TargetHealth.LabelOf(model, destinationId));
}
