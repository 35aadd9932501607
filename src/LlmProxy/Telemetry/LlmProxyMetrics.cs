using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Runtime.CompilerServices;
using LlmProxy.Configuration;

namespace LlmProxy.Telemetry;

/// <summary>
/// The gateway's one metrics class (meter <c>LlmProxy</c>, from <see cref="IMeterFactory"/>). GenAI instruments follow
/// the OpenTelemetry semantic conventions, names, units and bucket boundaries included; <c>llmproxy.*</c> instruments
/// carry what is specific to the gateway. Label values are bounded: configured names, key ids and teams, never keys
/// or other client input.
/// </summary>
public sealed class LlmProxyMetrics : IUsageSink
{
    /// <summary>The meter's name.</summary>
    public const string MeterName = "LlmProxy";

    private static readonly long[] TokenBuckets = [1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864];
    private static readonly double[] DurationBuckets = [0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92];
    private static readonly double[] FirstTokenBuckets = [0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0];
    private static readonly double[] PerTokenBuckets = [0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0, 2.5];
    private static readonly double[] OverheadBuckets = [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1];

    private readonly Histogram<long> _tokenUsage;
    private readonly Histogram<double> _requestDuration;
    private readonly Histogram<double> _timeToFirstToken;
    private readonly Histogram<double> _timePerOutputToken;
    // Counters with many label combinations are summed in tables and read by the exporter when it collects:
    // one dictionary update per request instead of one SDK measurement per label set.
    private readonly CounterTable<RequestKey> _requests = new();
    private readonly SpendTable _spend = new();
    private readonly CounterTable<string> _costUnknown = new();
    private readonly Histogram<double> _overhead;
    private readonly Histogram<double> _upstreamDuration;
    // In-flight requests are a plain counter read when the exporter collects: two interlocked adds per request
    // instead of two SDK measurements.
    private long _active;
    private readonly Counter<long> _rateLimitDecisions;
    private readonly Counter<long> _validationResults;
    private readonly Counter<long> _validationRetries;
    private readonly Counter<long> _validationEarlyAborts;
    private readonly Counter<long> _validationTokensSaved;
    private readonly Counter<long> _configReloads;
    private readonly Counter<long> _attempts;
    private readonly Histogram<double> _attemptDuration;
    private readonly Counter<long> _invalidStreamEvents;
    private readonly Counter<long> _streamContinuations;
    private readonly Counter<long> _circuitTransitions;
    private Func<IEnumerable<Measurement<double>>>? _targetHealth;

    /// <summary>Creates the instruments and counts config reloads.</summary>
    public LlmProxyMetrics(IMeterFactory meterFactory, ConfigStore store)
    {
        var meter = meterFactory.Create(MeterName);
        _tokenUsage = meter.CreateHistogram("gen_ai.client.token.usage", "{token}", "Input and output tokens per request.",
            advice: new InstrumentAdvice<long> { HistogramBucketBoundaries = TokenBuckets });
        _requestDuration = meter.CreateHistogram("gen_ai.server.request.duration", "s", "Time from request to the end of the response.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = DurationBuckets });
        _timeToFirstToken = meter.CreateHistogram("gen_ai.server.time_to_first_token", "s", "Time to the first generated token of a stream.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = FirstTokenBuckets });
        _timePerOutputToken = meter.CreateHistogram("gen_ai.server.time_per_output_token", "s", "Time per output token after the first, for streams.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = PerTokenBuckets });
        meter.CreateObservableCounter("llmproxy.requests", () => _requests.Observe(static k => k.Tags()), "{request}", "Forwarded requests by status and error category.");
        _overhead = meter.CreateHistogram("llmproxy.gateway.overhead", "s", "Time spent in the gateway itself, excluding the provider.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = OverheadBuckets });
        _upstreamDuration = meter.CreateHistogram("llmproxy.upstream.duration", "s", "Time waiting for and reading the provider.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = DurationBuckets });
        meter.CreateObservableCounter("llmproxy.cost", _spend.ObserveCost, "USD", "Cost of requests with a known price.");
        meter.CreateObservableCounter("llmproxy.cost.unknown", () => _costUnknown.Observe(static model => [new("gen_ai.request.model", model)]), "{request}", "Requests with usage but no known price.");
        meter.CreateObservableCounter("llmproxy.tokens", _spend.ObserveTokens, "{token}", "Tokens by key and team.");
        meter.CreateObservableUpDownCounter("llmproxy.requests.active", () => Volatile.Read(ref _active), "{request}", "Requests in flight.");
        _rateLimitDecisions = meter.CreateCounter<long>("llmproxy.rate_limit.decisions", "{decision}", "Rate-limit admissions and rejections.");
        _validationResults = meter.CreateCounter<long>("llmproxy.validation.results", "{result}", "Structured-output validation results.");
        _validationRetries = meter.CreateCounter<long>("llmproxy.validation.retries", "{retry}", "Answers asked for again because the last one broke its schema.");
        _validationEarlyAborts = meter.CreateCounter<long>("llmproxy.validation.early_aborts", "{stream}", "Streams stopped as soon as they could no longer match their schema.");
        _validationTokensSaved = meter.CreateCounter<long>("llmproxy.validation.tokens_saved", "{token}", "Output tokens not generated thanks to early aborts (estimated from the cap).");
        _configReloads = meter.CreateCounter<long>("llmproxy.config.reloads", "{reload}", "Config reloads by outcome.");
        _attempts = meter.CreateCounter<long>("llmproxy.attempts", "{attempt}", "Attempts of the attempt loop by model, provider and outcome.");
        _attemptDuration = meter.CreateHistogram("llmproxy.attempt.duration", "s", "Time of one attempt (to the end of its response), by model, provider and outcome.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = DurationBuckets });
        _invalidStreamEvents = meter.CreateCounter<long>("llmproxy.stream.invalid_events", "{event}", "Stream events dropped because their data was not JSON.");
        _streamContinuations = meter.CreateCounter<long>("llmproxy.stream.continuations", "{stream}", "Streams whose provider failed after part of the answer was sent, by outcome.");
        meter.CreateObservableGauge("llmproxy.target.health", () => _targetHealth?.Invoke() ?? [], "1",
            "Circuit of each target of the config: 1 closed, 0.5 half-open (a probe is let through), 0 open (skipped).");
        _circuitTransitions = meter.CreateCounter<long>("llmproxy.target.circuit.transitions", "{transition}", "Target circuits moving to a state (open, half_open, closed).");
        store.ReloadAttempted += outcome =>
        {
            if (outcome.Status != ConfigReloadStatus.Unchanged)
            {
                _configReloads.Add(1, new KeyValuePair<string, object?>("outcome", outcome.Status == ConfigReloadStatus.Applied ? "applied" : "rejected"));
            }
        };
    }

    /// <summary>A request entered (+1) or left (−1) the gateway.</summary>
    public void RequestActive(int delta) => Interlocked.Add(ref _active, delta);

    /// <summary>
    /// Counts a rate-limit decision: <c>admitted</c>, <c>rejected</c> (with the scope and kind of the limit that
    /// refused), <c>fail_open</c> or <c>fail_closed</c> (Redis unavailable).
    /// </summary>
    public void RateLimitDecision(string decision, string? scope, string? kind)
    {
        if (_rateLimitDecisions.Enabled)
        {
            _rateLimitDecisions.Add(1, new KeyValuePair<string, object?>("decision", decision), new KeyValuePair<string, object?>("scope", scope ?? ""),
                new KeyValuePair<string, object?>("limit", kind ?? ""));
        }
    }

    /// <summary>Counts a structured-output validation: <c>passed</c>, <c>failed</c> or <c>skipped</c>, by model and policy.</summary>
    public void ValidationResult(string model, string result, string mode)
    {
        if (_validationResults.Enabled)
        {
            _validationResults.Add(1, new KeyValuePair<string, object?>("gen_ai.request.model", model), new KeyValuePair<string, object?>("result", result),
                new KeyValuePair<string, object?>("mode", mode));
        }
    }

    /// <summary>
    /// Counts one attempt of the attempt loop and its duration: <c>answered</c>, <c>throttled</c>, <c>server_error</c>,
    /// <c>unreachable</c>, <c>timed_out</c>, … with the provider's status (0 when it sent none).
    /// </summary>
    public void Attempt(string model, string? provider, string outcome, int status, double seconds)
    {
        if (!_attempts.Enabled && !_attemptDuration.Enabled)
        {
            return;
        }

        var tags = new TagList
        {
            { "gen_ai.request.model", model },
            { "provider", provider ?? "" },
            { "outcome", outcome },
            { "http.response.status_code", status },
        };
        _attempts.Add(1, tags);
        _attemptDuration.Record(seconds, tags);
    }

    /// <summary>Reads <c>llmproxy.target.health</c> from <paramref name="observe"/> (the target health table, set once at start).</summary>
    public void ObserveTargetHealth(Func<IEnumerable<Measurement<double>>> observe) => _targetHealth = observe;

    /// <summary>Counts a target's circuit moving to <paramref name="state"/> (<c>open</c>, <c>half_open</c>, <c>closed</c>).</summary>
    public void CircuitTransition(string model, string provider, string target, string state)
    {
        if (_circuitTransitions.Enabled)
        {
            _circuitTransitions.Add(1, new KeyValuePair<string, object?>("gen_ai.request.model", model), new KeyValuePair<string, object?>("provider", provider),
                new KeyValuePair<string, object?>("target", target), new KeyValuePair<string, object?>("state", state));
        }
    }

    /// <summary>Counts a stream event dropped because its data was not JSON.</summary>
    public void InvalidStreamEvent(string model)
    {
        if (_invalidStreamEvents.Enabled)
        {
            _invalidStreamEvents.Add(1, new KeyValuePair<string, object?>("gen_ai.request.model", model));
        }
    }

    /// <summary>Counts a stream cut after part of the answer was sent: <c>prefill</c>, <c>restart</c> (continued) or <c>failed</c> (ended with an error event).</summary>
    public void StreamContinuation(string model, string outcome)
    {
        if (_streamContinuations.Enabled)
        {
            _streamContinuations.Add(1, new KeyValuePair<string, object?>("gen_ai.request.model", model), new KeyValuePair<string, object?>("outcome", outcome));
        }
    }

    /// <summary>Counts a structured-output retry.</summary>
    public void ValidationRetry(string model)
    {
        if (_validationRetries.Enabled)
        {
            _validationRetries.Add(1, new KeyValuePair<string, object?>("gen_ai.request.model", model));
        }
    }

    /// <summary>Counts a stream stopped early and the output tokens that saved.</summary>
    public void ValidationEarlyAbort(string model, long tokensSaved)
    {
        var tag = new KeyValuePair<string, object?>("gen_ai.request.model", model);
        _validationEarlyAborts.Add(1, tag);
        _validationTokensSaved.Add(tokensSaved, tag);
    }

    /// <inheritdoc/>
    public void Record(UsageRecord record) => RecordCore(record);

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void RecordCore(UsageRecord record)
    {
        var genAi = new TagList
        {
            { "gen_ai.operation.name", record.Operation },
            { "gen_ai.request.model", record.RequestModel },
        };
        if (BoundedResponseModel(record) is { } responseModel)
        {
            genAi.Add("gen_ai.response.model", responseModel);
        }

        if (record.ProviderSystem is not null)
        {
            genAi.Add("gen_ai.provider.name", record.ProviderSystem);
        }

        if (record.Error != ErrorCategory.None)
        {
            genAi.Add("error.type", record.Error.Name());
        }

        _requestDuration.Record(record.Duration, genAi);
        if (record.TimeToFirstToken is { } ttft)
        {
            _timeToFirstToken.Record(ttft, genAi);
        }

        if (record.TimePerOutputToken is { } perToken)
        {
            _timePerOutputToken.Record(perToken, genAi);
        }

        var model = new KeyValuePair<string, object?>("gen_ai.request.model", record.RequestModel);
        _requests.Add(new RequestKey(record.RequestModel, record.Status, record.Error), 1);
        _overhead.Record(record.Overhead, model);
        if (record.UpstreamDuration is { } upstream)
        {
            _upstreamDuration.Record(upstream, model, new KeyValuePair<string, object?>("gen_ai.provider.name", record.Provider));
        }

        if (record.Usage is not { } usage)
        {
            return;
        }

        RecordTokens(genAi, "input", usage.Input);
        RecordTokens(genAi, "output", usage.Output);
        long? costNano = record.CostUsd is { } cost ? (long)Math.Round(Math.Min(cost, 1_000_000m) * 1_000_000_000m) : null;
        _spend.Add(record.RequestModel, record.KeyId ?? "", record.Team ?? "", usage, costNano);
        if (costNano is null)
        {
            _costUnknown.Add(record.RequestModel, 1);
        }
    }

    // The provider names the model it used; as a label only names that extend the configured upstream model are
    // kept (gpt-4o → gpt-4o-2024-08-06), anything else becomes "other" so a provider cannot grow the label set.
    private static string? BoundedResponseModel(UsageRecord record)
    {
        if (record.ResponseModel is not { } model)
        {
            return null;
        }

        return record.Target is { } target && model.Length <= 128 && model.StartsWith(target, StringComparison.Ordinal) ? model : "other";
    }

    private void RecordTokens(TagList genAi, string type, long count)
    {
        var tags = genAi;
        tags.Add("gen_ai.token.type", type);
        _tokenUsage.Record(count, tags);
    }

    private readonly record struct RequestKey(string Model, int Status, ErrorCategory Error)
    {
        public KeyValuePair<string, object?>[] Tags() =>
        [
            new("gen_ai.request.model", Model),
            new("http.response.status_code", Status),
            new("error.type", Error.Name()),
        ];
    }
}
