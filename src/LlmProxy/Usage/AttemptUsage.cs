using LlmProxy.Hosting;

namespace LlmProxy.Usage;

/// <summary>
/// The usage of the attempts before the one whose answer the client gets: each is taken off the request before the next
/// attempt (which meters into it afresh) and added back at the end, so the request is charged for every attempt.
/// </summary>
internal sealed class AttemptUsage
{
    private long _input;
    private long _output;
    private long _cached;
    private long _reasoning;
    private bool _any;

    /// <summary>Takes the usage of the attempt just made off <paramref name="request"/>.</summary>
    public void Take(LlmRequestFeature request)
    {
        if (request.InputTokens is { } input && request.OutputTokens is { } output)
        {
            _any = true;
            _input += input;
            _output += output;
            _cached += request.CachedInputTokens;
            _reasoning += request.ReasoningTokens;
        }

        request.InputTokens = null;
        request.OutputTokens = null;
        request.CachedInputTokens = 0;
        request.ReasoningTokens = 0;
    }

    /// <summary>Adds the earlier attempts' usage to the last attempt's, on <paramref name="request"/>.</summary>
    public void AddTo(LlmRequestFeature request)
    {
        if (_any)
        {
            request.SetUsage((request.InputTokens ?? 0) + _input, (request.OutputTokens ?? 0) + _output, request.CachedInputTokens + _cached,
                request.ReasoningTokens + _reasoning);
        }
    }
}
