using System.Globalization;

namespace LlmProxy.RateLimiting;

/// <summary>
/// OpenAI's rate-limit headers for the tightest applicable limits: <c>x-ratelimit-limit-requests</c>,
/// <c>x-ratelimit-remaining-requests</c>, <c>x-ratelimit-reset-requests</c> and the <c>-tokens</c> variants. The
/// tightest limit of a kind is the one with the least remaining; the reset is the time until it is full again,
/// written as a Go duration (<c>1s</c>, <c>6m0s</c>, <c>12ms</c>) as OpenAI does. On a 429 they describe the buckets
/// as the rejection left them (nothing counted): remaining is the whole amount left, rounded down, so it is 0 for an
/// exhausted request limit and, for a token limit, what is left even when the request needs more than that.
/// </summary>
public static class RateLimitHeaders
{
    /// <summary>The prefix of every rate-limit header (the provider's own are removed from responses).</summary>
    public const string Prefix = "x-ratelimit-";

    // Limit, remaining and reset header names per kind.
    private static readonly string[] RequestNames = [Prefix + "limit-requests", Prefix + "remaining-requests", Prefix + "reset-requests"];
    private static readonly string[] TokenNames = [Prefix + "limit-tokens", Prefix + "remaining-tokens", Prefix + "reset-tokens"];

    /// <summary>Writes the headers of a decision (an admission, or a rejection by the store).</summary>
    public static void Write(IHeaderDictionary headers, LimitPlan plan, LimitDecision decision, int divisor)
    {
        int requests = -1, tokens = -1;
        for (var i = 0; i < plan.Buckets; i++)
        {
            ref var tightest = ref plan.Rules[i].Kind == LimitKind.Requests ? ref requests : ref tokens;
            if (tightest < 0 || decision.Remaining[i] < decision.Remaining[tightest])
            {
                tightest = i;
            }
        }

        Write(headers, RequestNames, plan, decision, requests, divisor);
        Write(headers, TokenNames, plan, decision, tokens, divisor);
    }

    private static void Write(IHeaderDictionary headers, string[] names, LimitPlan plan, LimitDecision decision, int index, int divisor)
    {
        if (index < 0)
        {
            return;
        }

        var rule = plan.Rules[index];
        headers[names[0]] = divisor <= 1 ? rule.LimitText : ((long)MemoryLimitStore.Capacity(rule, divisor)).ToString(CultureInfo.InvariantCulture);
        headers[names[1]] = Math.Max(0, decision.Remaining[index]).ToString(CultureInfo.InvariantCulture);
        headers[names[2]] = GoDuration(decision.ResetMs[index]);
    }

    /// <summary>A duration the way Go prints it: <c>0s</c>, <c>12ms</c>, <c>1.5s</c>, <c>6m0s</c>, <c>1h2m3s</c>.</summary>
    public static string GoDuration(long milliseconds)
    {
        if (milliseconds <= 0)
        {
            return "0s";
        }

        // One string per call (a header value on every admitted request): formatted on the stack.
        var invariant = CultureInfo.InvariantCulture;
        if (milliseconds < 1000)
        {
            return string.Create(invariant, stackalloc char[24], $"{milliseconds}ms");
        }

        var hours = milliseconds / 3_600_000;
        var minutes = milliseconds / 60_000 % 60;
        var seconds = milliseconds % 60_000 / 1000.0;
        return hours > 0
            ? string.Create(invariant, stackalloc char[48], $"{hours}h{minutes}m{seconds:0.###}s")
            : minutes > 0
                ? string.Create(invariant, stackalloc char[32], $"{minutes}m{seconds:0.###}s")
                : string.Create(invariant, stackalloc char[24], $"{seconds:0.###}s");
    }
}
