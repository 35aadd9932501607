using System.Diagnostics;
using System.Globalization;

namespace LlmProxy.Bench;

/// <summary>
/// Reads the gateway's attempt counter from its Prometheus endpoint: <c>llmproxy_attempts_total</c> (the attempt loop's
/// <c>llmproxy.attempts</c>) of the bench model, summed by <c>outcome</c> (<c>answered</c>, <c>server_error</c>, ...).
/// The driver reads it before and after a run, outside the measured window; the difference is that run's attempts.
/// </summary>
internal sealed class GatewayAttempts(HttpClient client, Uri metricsUri)
{
    private const string MetricName = "llmproxy_attempts";

    // The exporter may answer a scrape from a cache of the last one for up to 300 ms (OpenTelemetry's default).
    private static readonly TimeSpan CacheDuration = TimeSpan.FromMilliseconds(400);

    private long _lastScrape;

    /// <summary>Attempts so far by outcome (outcomes not seen yet are absent).</summary>
    public async Task<Dictionary<string, long>> ReadAsync(CancellationToken cancellationToken)
    {
        var sinceLast = Stopwatch.GetElapsedTime(_lastScrape);
        if (_lastScrape != 0 && sinceLast < CacheDuration)
        {
            await Task.Delay(CacheDuration - sinceLast, cancellationToken);
        }

        using var response = await client.GetAsync(metricsUri, cancellationToken);
        var text = await response.Content.ReadAsStringAsync(cancellationToken);
        _lastScrape = Stopwatch.GetTimestamp();
        if (!response.IsSuccessStatusCode)
        {
            throw new BenchFailure($"the gateway answered HTTP {(int)response.StatusCode} to GET {metricsUri}");
        }

        return Parse(text);
    }

    /// <summary>Sums the counter's samples of the bench model by outcome.</summary>
    public static Dictionary<string, long> Parse(string prometheusText)
    {
        var byOutcome = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var line in prometheusText.AsSpan().EnumerateLines())
        {
            // llmproxy_attempts_total{gen_ai_request_model="bench-model",otel_scope_name="LlmProxy",outcome="answered",provider="up"} 1234 1764000000000
            if (!line.StartsWith(MetricName, StringComparison.Ordinal))
            {
                continue;
            }

            var open = line.IndexOf('{');
            var close = line.LastIndexOf('}');
            if (open < 0 || close < open || line[MetricName.Length..open] is not ("" or "_total"))
            {
                continue;
            }

            var labels = line[(open + 1)..close].ToString();
            if (Label(labels, "gen_ai_request_model") != Payloads.PublicModel || Label(labels, "outcome") is not { } outcome)
            {
                continue;
            }

            var value = line[(close + 1)..].Trim();
            var space = value.IndexOf(' ');
            if (double.TryParse(space < 0 ? value : value[..space], NumberStyles.Float, CultureInfo.InvariantCulture, out var count))
            {
                byOutcome[outcome] = byOutcome.GetValueOrDefault(outcome) + (long)count;
            }
        }

        return byOutcome;
    }

    /// <summary>The attempts between two readings, by outcome.</summary>
    public static Dictionary<string, long> Difference(Dictionary<string, long> before, Dictionary<string, long> after)
        => after.ToDictionary(static pair => pair.Key, pair => pair.Value - before.GetValueOrDefault(pair.Key), StringComparer.Ordinal);

    private static string? Label(string labels, string name)
    {
        var start = labels.IndexOf(name + "=\"", StringComparison.Ordinal);
        if (start < 0 || (start > 0 && labels[start - 1] != ','))
        {
            return null;
        }

        start += name.Length + 2;
        var end = labels.IndexOf('"', start);
        return end < 0 ? null : labels[start..end];
    }
}
