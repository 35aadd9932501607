using LlmProxy.RateLimiting;
using Microsoft.Extensions.Time.Testing;

namespace LlmProxy.Tests.RateLimiting;

public sealed class RedisCircuitTests
{
    private readonly FakeTimeProvider _time = new(DateTimeOffset.UtcNow);

    private RedisCircuit Opened()
    {
        var circuit = new RedisCircuit(_time);
        for (var i = 0; i < RedisCircuit.FailuresToOpen; i++)
        {
            circuit.Failed();
        }

        return circuit;
    }

    [Fact]
    public void Enter_New_ClosedAndLetsCallsThrough()
    {
        var circuit = new RedisCircuit(_time);

        Assert.Equal(CircuitState.Closed, circuit.Enter());
        Assert.Equal(CircuitState.Closed, circuit.State);
    }

    [Fact]
    public void Failed_FewerThanThresholdInARow_StaysClosed()
    {
        var circuit = new RedisCircuit(_time);

        for (var i = 0; i < RedisCircuit.FailuresToOpen - 1; i++)
        {
            circuit.Failed();
        }

        Assert.Equal(CircuitState.Closed, circuit.Enter());
    }

    [Fact]
    public void Failed_ThresholdInARow_OpensAndRefusesCalls()
    {
        var circuit = Opened();

        Assert.Equal(CircuitState.Open, circuit.State);
        Assert.Equal(CircuitState.Open, circuit.Enter());
        _time.Advance(RedisCircuit.OpenTime - TimeSpan.FromMilliseconds(1));
        Assert.Equal(CircuitState.Open, circuit.Enter());
    }

    [Fact]
    public void Succeeded_BetweenFailures_CountStartsAgain()
    {
        var circuit = new RedisCircuit(_time);

        for (var i = 0; i < RedisCircuit.FailuresToOpen - 1; i++)
        {
            circuit.Failed();
        }

        circuit.Succeeded();
        for (var i = 0; i < RedisCircuit.FailuresToOpen - 1; i++)
        {
            circuit.Failed();
        }

        Assert.Equal(CircuitState.Closed, circuit.Enter());
    }

    [Fact]
    public void Enter_OpenTimePassed_OneProbeOthersStillRefused()
    {
        var circuit = Opened();
        _time.Advance(RedisCircuit.OpenTime);

        Assert.Equal(CircuitState.HalfOpen, circuit.Enter());
        Assert.Equal(CircuitState.Open, circuit.Enter());
        Assert.Equal(CircuitState.HalfOpen, circuit.State);
    }

    [Fact]
    public void Succeeded_Probe_Closes()
    {
        var circuit = Opened();
        _time.Advance(RedisCircuit.OpenTime);
        Assert.Equal(CircuitState.HalfOpen, circuit.Enter());

        circuit.Succeeded();

        Assert.Equal(CircuitState.Closed, circuit.Enter());
        // Closed with the count from zero: one failure does not reopen it.
        circuit.Failed();
        Assert.Equal(CircuitState.Closed, circuit.Enter());
    }

    [Fact]
    public void Failed_Probe_OpensForAnotherPeriod()
    {
        var circuit = Opened();
        _time.Advance(RedisCircuit.OpenTime);
        Assert.Equal(CircuitState.HalfOpen, circuit.Enter());

        circuit.Failed();

        Assert.Equal(CircuitState.Open, circuit.Enter());
        _time.Advance(RedisCircuit.OpenTime - TimeSpan.FromMilliseconds(1));
        Assert.Equal(CircuitState.Open, circuit.Enter());
        _time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.Equal(CircuitState.HalfOpen, circuit.Enter());
    }

    [Fact]
    public void Enter_ProbeNeverReports_AnotherProbeAfterOpenTime()
    {
        var circuit = Opened();
        _time.Advance(RedisCircuit.OpenTime);
        Assert.Equal(CircuitState.HalfOpen, circuit.Enter());

        _time.Advance(RedisCircuit.OpenTime);

        Assert.Equal(CircuitState.HalfOpen, circuit.Enter());
    }

    [Fact]
    public void Succeeded_WhileOpen_ClosesAtOnce()
    {
        // A reply to a call made before the circuit opened shows Redis answering again.
        var circuit = Opened();

        circuit.Succeeded();

        Assert.Equal(CircuitState.Closed, circuit.Enter());
    }
}
