using System.Diagnostics;
using System.Net;

namespace LlmProxy.Bench;

/// <summary>
/// Switches the one measured gateway between <see cref="GatewayMode"/>s by rewriting its config file (the gateway
/// hot-reloads it), then waits until answers show the change: a metered answer carries <c>x-llmproxy-overhead-ms</c>,
/// a limited one <c>x-ratelimit-limit-requests</c> with its setting's own request limit (Redis or in memory,
/// <see cref="GatewayLimits"/>), and in the failover setting <c>GET /v1/models/{alias}</c> finds the
/// alias that only that setting declares (<see cref="Payloads.FailoverAlias"/>). Measuring every setting in the same process keeps
/// process-to-process differences (memory layout, JIT decisions, thread-pool history) out of the ratios.
/// </summary>
internal sealed class GatewayModeSwitch(string configPath, Func<GatewayMode, string> config, HttpClient client, Uri chatUri)
{
    private const string OverheadHeader = "x-llmproxy-overhead-ms";
    private const string LimitHeader = "x-ratelimit-limit-requests";
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(15);

    private GatewayMode? _mode;

    /// <summary>Writes the config of a mode (the gateway reads it at start-up, or reloads it).</summary>
    public async Task WriteAsync(GatewayMode mode, CancellationToken cancellationToken)
    {
        // Write then rename, so the watcher never reads a half-written file.
        var temporary = configPath + ".tmp";
        await File.WriteAllTextAsync(temporary, config(mode), cancellationToken);
        File.Move(temporary, configPath, overwrite: true);
        _mode = null;
    }

    /// <summary>Switches the mode and returns once the gateway answers accordingly.</summary>
    public async Task SetAsync(GatewayMode mode, CancellationToken cancellationToken)
    {
        if (_mode == mode)
        {
            return;
        }

        if (await CurrentAsync(cancellationToken) != mode)
        {
            await WriteAsync(mode, cancellationToken);
            var started = Stopwatch.GetTimestamp();
            while (await CurrentAsync(cancellationToken) != mode)
            {
                if (Stopwatch.GetElapsedTime(started) > Timeout)
                {
                    throw new BenchFailure($"the gateway did not switch to {mode} within {Timeout.TotalSeconds:0} s of the config edit");
                }

                await Task.Delay(50, cancellationToken);
            }
        }

        _mode = mode;
    }

    private async Task<GatewayMode> CurrentAsync(CancellationToken cancellationToken)
    {
        using var request = new Target("switch", "switch", chatUri, null).CreateRequest(Payloads.ChatRequest);
        using var response = await client.SendAsync(request, cancellationToken);
        await response.Content.ReadAsByteArrayAsync(cancellationToken);
        if (response.StatusCode != HttpStatusCode.OK)
        {
            throw new BenchFailure($"the gateway answered HTTP {(int)response.StatusCode} while switching modes");
        }

        if (response.Headers.TryGetValues(LimitHeader, out var limits))
        {
            var limit = limits.FirstOrDefault();
            return limit == GatewayLimits.RequestsPerMinute(GatewayMode.RedisLimits) ? GatewayMode.RedisLimits
                : limit == GatewayLimits.RequestsPerMinute(GatewayMode.MemoryLimits) ? GatewayMode.MemoryLimits
                : throw new BenchFailure($"the gateway answered with {LimitHeader}: {limit}, which neither limited setting declares");
        }

        return !response.Headers.Contains(OverheadHeader) ? GatewayMode.MeteringOff
            : await HasFailoverAliasAsync(cancellationToken) ? GatewayMode.Failover
            : GatewayMode.MeteringOn;
    }

    private async Task<bool> HasFailoverAliasAsync(CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(chatUri, "/v1/models/" + Payloads.FailoverAlias));
        request.Headers.TryAddWithoutValidation("Authorization", Target.AuthorizationValue);
        using var response = await client.SendAsync(request, cancellationToken);
        await response.Content.ReadAsByteArrayAsync(cancellationToken);
        return response.StatusCode switch
        {
            HttpStatusCode.OK => true,
            HttpStatusCode.NotFound => false,
            _ => throw new BenchFailure($"the gateway answered HTTP {(int)response.StatusCode} to GET /v1/models/{Payloads.FailoverAlias} while switching modes"),
        };
    }
}
