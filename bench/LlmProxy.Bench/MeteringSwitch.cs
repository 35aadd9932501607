using System.Diagnostics;
using System.Net;

namespace LlmProxy.Bench;

/// <summary>
/// Turns metering on or off in the one measured gateway by rewriting its config file (the gateway hot-reloads it),
/// then waits until answers show the change: a metered answer carries <c>x-llmproxy-overhead-ms</c>, an unmetered
/// one does not. Measuring both settings in the same process keeps process-to-process differences (memory layout,
/// JIT decisions, thread-pool history) out of the on/off ratio.
/// </summary>
internal sealed class MeteringSwitch(string configPath, Func<bool, string> config, HttpClient client, Uri chatUri)
{
    private const string OverheadHeader = "x-llmproxy-overhead-ms";
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(15);

    private bool? _metering;

    /// <summary>Writes the initial config (the gateway reads it at start-up).</summary>
    public async Task WriteAsync(bool metering, CancellationToken cancellationToken)
    {
        // Write then rename, so the watcher never reads a half-written file.
        var temporary = configPath + ".tmp";
        await File.WriteAllTextAsync(temporary, config(metering), cancellationToken);
        File.Move(temporary, configPath, overwrite: true);
        _metering = null;
    }

    /// <summary>Switches metering and returns once the gateway answers accordingly.</summary>
    public async Task SetAsync(bool metering, CancellationToken cancellationToken)
    {
        if (_metering == metering)
        {
            return;
        }

        if (await IsMeteringAsync(cancellationToken) != metering)
        {
            await WriteAsync(metering, cancellationToken);
            var started = Stopwatch.GetTimestamp();
            while (await IsMeteringAsync(cancellationToken) != metering)
            {
                if (Stopwatch.GetElapsedTime(started) > Timeout)
                {
                    throw new BenchFailure($"the gateway did not switch metering {(metering ? "on" : "off")} within {Timeout.TotalSeconds:0} s of the config edit");
                }

                await Task.Delay(50, cancellationToken);
            }
        }

        _metering = metering;
    }

    private async Task<bool> IsMeteringAsync(CancellationToken cancellationToken)
    {
        using var request = new Target("switch", "switch", chatUri, null).CreateRequest(Payloads.ChatRequest);
        using var response = await client.SendAsync(request, cancellationToken);
        await response.Content.ReadAsByteArrayAsync(cancellationToken);
        if (response.StatusCode != HttpStatusCode.OK)
        {
            throw new BenchFailure($"the gateway answered HTTP {(int)response.StatusCode} while switching metering");
        }

        return response.Headers.Contains(OverheadHeader);
    }
}
