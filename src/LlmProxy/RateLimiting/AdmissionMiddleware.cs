using System.Globalization;
using LlmProxy.Errors;
using LlmProxy.Hosting;
using LlmProxy.Telemetry;
using Microsoft.AspNetCore.Http.Features;

namespace LlmProxy.RateLimiting;

/// <summary>
/// Stage 4 (after routing, before load balancing): admits the request under every limit of its key, team, model and
/// key × model in one decision, reserving its estimated tokens and a concurrency lease; a refusal is OpenAI's 429.
/// The reservation is settled against the request's usage record when it ends. Requests without limits pass at once.
/// </summary>
internal sealed class AdmissionMiddleware
{
    private static readonly TimeSpan LeaseMargin = TimeSpan.FromMinutes(10);

    private readonly RequestDelegate _next;
    private readonly RateLimiter _limiter;
    private readonly LlmProxyMetrics _metrics;
    private readonly TokenEstimator _estimator;
    private readonly IdSequence _leaseIds = new("lease_");

    public AdmissionMiddleware(RequestDelegate next, RateLimiter limiter, LlmProxyMetrics metrics, TokenEstimator estimator)
    {
        _next = next;
        _limiter = limiter;
        _metrics = metrics;
        _estimator = estimator;
    }

    public Task Invoke(HttpContext context)
    {
        var feature = context.Features.GetRequiredFeature<LlmRequestFeature>();
        var plan = feature.Snapshot.Limits.For(feature.Key, feature.Model!.Name);
        return plan.IsEmpty ? _next(context) : AdmitAsync(context, feature, plan);
    }

    private async Task AdmitAsync(HttpContext context, LlmRequestFeature feature, LimitPlan plan)
    {
        var model = feature.Model!;
        var settings = feature.Snapshot.Limits.Settings;
        long tokens = 0;
        if (plan.HasTokens)
        {
            var estimate = _estimator.Count(feature.Body, model.Targets[0].UpstreamModel,
                producesText: feature.OperationPath != "/embeddings", settings.DefaultMaxTokens);
            tokens = LimitLease.Weighted(estimate, settings.TokenWeights);
            foreach (var rule in plan.TokenRules)
            {
                if (tokens > rule.Limit)
                {
                    _metrics.RateLimitDecision("rejected", rule.Scope, "tokens");
                    await TooLargeAsync(context, feature, rule, rule.Limit, tokens);
                    return;
                }
            }
        }

        // A lease id names the request's place under concurrency caps; without one nothing stores it.
        var leaseId = plan.HasConcurrency ? _leaseIds.Next() : "";
        var outcome = await _limiter.AdmitAsync(feature.Snapshot, plan, tokens, leaseId, model.Timeout + LeaseMargin);
        if (outcome.Decision is not { } decision)
        {
            context.Response.Headers.RetryAfter = "1";
            await ErrorWriter.WriteAsync(context, LlmError.RateLimitUnavailable, "Rate limits cannot be checked right now; please retry shortly.");
            return;
        }

        if (!decision.Admitted)
        {
            await RejectAsync(context, feature, plan, decision, tokens, outcome.Divisor);
            return;
        }

        _metrics.RateLimitDecision("admitted", null, null);
        RateLimitHeaders.Write(context.Response.Headers, plan, decision, outcome.Divisor);
        feature.Limits = (plan, decision, outcome.Divisor);
        var lease = new LimitLease(_limiter, outcome.Store, plan, leaseId, tokens, outcome.Divisor, settings);
        if (feature.Metered)
        {
            // Settled by the metering stage with the request's usage record.
            feature.Settlement = lease;
            await _next(context);
            return;
        }

        // Metering is off (then no token limit is allowed): release the leases here.
        try
        {
            await _next(context);
        }
        finally
        {
            lease.Settle(null);
        }
    }

    private Task RejectAsync(HttpContext context, LlmRequestFeature feature, LimitPlan plan, LimitDecision decision, long tokens, int divisor)
    {
        var rule = plan.Rules[decision.RejectedRule];
        var limit = (long)MemoryLimitStore.Capacity(rule, divisor);
        _metrics.RateLimitDecision("rejected", rule.Scope, rule.Kind.ToString().ToLowerInvariant());
        var retryMs = rule.Kind == LimitKind.Concurrency ? 1000 : Math.Max(1, decision.RetryAfterMs);
        var headers = context.Response.Headers;
        RateLimitHeaders.Write(headers, plan, decision, divisor);
        headers.RetryAfter = Math.Max(1, (retryMs + 999) / 1000).ToString(CultureInfo.InvariantCulture);
        headers["retry-after-ms"] = retryMs.ToString(CultureInfo.InvariantCulture);
        if (rule.Kind == LimitKind.Concurrency)
        {
            return ErrorWriter.WriteAsync(context, LlmError.RequestsRateLimited,
                $"Too many concurrent requests for {feature.Request.Model} for {ScopeText(rule)}: Limit {limit}, In flight {decision.Used}. "
                + "Please try again when a request has finished.");
        }

        var requested = rule.Kind == LimitKind.Tokens ? tokens : 1;
        if (requested > limit)
        {
            // Only while failing open (limit / replicas): this replica can never fit it, so retrying here is pointless.
            return TooLargeAsync(context, feature, rule, limit, requested);
        }

        return ErrorWriter.WriteAsync(context, rule.Kind == LimitKind.Tokens ? LlmError.TokensRateLimited : LlmError.RequestsRateLimited,
            $"Rate limit reached for {feature.Request.Model} on {rule.Description} for {ScopeText(rule)}: Limit {limit}, Used {Math.Min(limit, decision.Used)}, "
            + $"Requested {requested}. Please try again in {RateLimitHeaders.GoDuration(retryMs)}.");
    }

    // A request that can never fit the limit: OpenAI's "Request too large", and no point in retrying it.
    private static Task TooLargeAsync(HttpContext context, LlmRequestFeature feature, LimitRule rule, long limit, long requested)
    {
        context.Response.Headers["x-should-retry"] = "false";
        return ErrorWriter.WriteAsync(context, LlmError.TokensRateLimited,
            $"Request too large for {feature.Request.Model} on {rule.Description} for {ScopeText(rule)}: Limit {limit}, Requested {requested}. "
            + "The input or output tokens must be reduced in order to run successfully.");
    }

    private static string ScopeText(LimitRule rule) => rule.Scope switch
    {
        "key" => $"key {rule.ScopeName}",
        "team" => $"team {rule.ScopeName}",
        "model" => $"model {rule.ScopeName} (all keys)",
        _ => $"key {rule.ScopeName.Replace("/", " on model ", StringComparison.Ordinal)}",
    };
}
