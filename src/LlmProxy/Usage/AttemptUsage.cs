using LlmProxy.Telemetry;

namespace LlmProxy.Usage;

/// <summary>
/// The usage of the attempts before the one whose answer the client gets: each is taken off the meter before the next
/// attempt (which meters into it afresh) and added back at the end, so the request is charged for every attempt.
/// </summary>
internal sealed class AttemptUsage
{
    private long _input;
    private long _output;
    private long _cached;
    private long _reasoning;
    private bool _any;

    /// <summary>Takes the usage of the attempt just made off <paramref name="meter"/>.</summary>
    public void Take(RequestMeter meter)
    {
        if (meter.InputTokens is { } input && meter.OutputTokens is { } output)
        {
            _any = true;
            _input += input;
            _output += output;
            _cached += meter.CachedInputTokens;
            _reasoning += meter.ReasoningTokens;
        }

        meter.InputTokens = null;
        meter.OutputTokens = null;
        meter.CachedInputTokens = 0;
        meter.ReasoningTokens = 0;
    }

    /// <summary>Adds the earlier attempts' usage to the last attempt's, on <paramref name="meter"/>.</summary>
    public void AddTo(RequestMeter meter)
    {
        if (_any)
        {
            meter.SetUsage((meter.InputTokens ?? 0) + _input, (meter.OutputTokens ?? 0) + _output, meter.CachedInputTokens + _cached,
                meter.ReasoningTokens + _reasoning);
        }
    }
}
