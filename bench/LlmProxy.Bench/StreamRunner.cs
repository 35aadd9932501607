using System.Diagnostics;
using System.Net;

namespace LlmProxy.Bench;

/// <summary>
/// Time to first event: sequential <c>"stream":true</c> requests, timed from <c>SendAsync</c> (response headers
/// read) until the first complete <c>data:</c> line has been read from the body. The rest is drained untimed.
/// <para>
/// Several targets can be settings of one gateway process (switched by a config edit, <see cref="Target.Prepare"/>),
/// which cannot change from one request to the next. So the targets are put in groups: the first target with a
/// setting shares its group with every target that has none (direct, bare YARP), and each other target with a setting
/// has a group of its own. Within a group, sample i visits every target, starting with a rotating one. The groups take
/// turns in blocks of <see cref="BlockSamples"/> samples (the first group rotating too), and after a switch each
/// target of the group gets <see cref="SwitchWarmup"/> unrecorded requests. With one group (no settings to switch
/// between), every sample is interleaved as before.
/// </para>
/// </summary>
internal static class StreamRunner
{
    /// <summary>Samples of a group in one turn, before the next group's setting is switched on.</summary>
    public const int BlockSamples = 100;

    /// <summary>Unrecorded requests per target after its group's setting is switched on (the reload's first requests).</summary>
    public const int SwitchWarmup = 10;

    private static readonly byte[] DataPrefix = "data:"u8.ToArray();

    /// <summary>Samples per target, interleaved within each group; the groups take turns (see the type's remarks).</summary>
    public static async Task<StreamSamples[]> RunAsync(HttpClient client, IReadOnlyList<Target> targets, int warmup, int samples,
        CancellationToken cancellationToken)
    {
        var buffer = new byte[16 * 1024];
        var results = targets.Select(t => new StreamSamples(t, samples)).ToArray();
        var groups = Group(results);
        foreach (var group in groups)
        {
            await PrepareAsync(group, cancellationToken);
            await SampleGroupAsync(group, 0, warmup, record: false);
        }

        foreach (var result in results)
        {
            result.ResetErrors();
        }

        for (var (done, block) = (0, 0); done < samples; block++)
        {
            var count = Math.Min(BlockSamples, samples - done);
            for (var g = 0; g < groups.Length; g++)
            {
                var group = groups[(block + g) % groups.Length];
                if (groups.Length > 1)
                {
                    await PrepareAsync(group, cancellationToken);
                    await SampleGroupAsync(group, 0, SwitchWarmup, record: false);
                }

                await SampleGroupAsync(group, done, count, record: true);
            }

            done += count;
        }

        return results;

        async Task SampleGroupAsync(StreamSamples[] group, int first, int count, bool record)
        {
            for (var i = first; i < first + count; i++)
            {
                for (var j = 0; j < group.Length; j++)
                {
                    var result = group[(i + j) % group.Length];
                    var (milliseconds, error) = await SampleAsync(client, result.Target, buffer, cancellationToken);
                    if (error is not null)
                    {
                        result.AddError(error);
                    }
                    else if (record)
                    {
                        result.Add(milliseconds);
                    }
                }
            }
        }
    }

    /// <summary>The groups of targets that can be sampled in turn without switching the gateway's setting.</summary>
    private static StreamSamples[][] Group(StreamSamples[] results)
    {
        var switching = results.Where(static r => r.Target.Prepare is not null).ToArray();
        var free = results.Where(static r => r.Target.Prepare is null).ToArray();
        if (switching.Length == 0)
        {
            return [free];
        }

        // The first switching target keeps its place among the free ones (direct, bare YARP, LlmProxy (metering on)).
        StreamSamples[] first = [.. results.Where(r => r.Target.Prepare is null || r == switching[0])];
        return [first, .. switching.Skip(1).Select(static r => new[] { r })];
    }

    private static async Task PrepareAsync(StreamSamples[] group, CancellationToken cancellationToken)
    {
        foreach (var result in group)
        {
            if (result.Target.Prepare is { } prepare)
            {
                await prepare(cancellationToken);
            }
        }
    }

    private static async Task<(double Milliseconds, string? Error)> SampleAsync(HttpClient client, Target target, byte[] buffer,
        CancellationToken cancellationToken)
    {
        try
        {
            using var request = target.CreateRequest(Payloads.StreamingChatRequest);
            var start = Stopwatch.GetTimestamp();
            using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
            await using var body = await response.Content.ReadAsStreamAsync(cancellationToken);
            var length = 0;
            var lineStart = 0;
            long firstEvent = 0;
            while (firstEvent == 0)
            {
                if (length == buffer.Length)
                {
                    return (0, "no data: line in the first 16 KB");
                }

                var read = await body.ReadAsync(buffer.AsMemory(length), cancellationToken);
                if (read == 0)
                {
                    return (0, response.StatusCode == HttpStatusCode.OK ? "stream ended before a data: line" : $"HTTP {(int)response.StatusCode}");
                }

                length += read;
                int newline;
                while ((newline = buffer.AsSpan(lineStart, length - lineStart).IndexOf((byte)'\n')) >= 0)
                {
                    if (buffer.AsSpan(lineStart, newline).StartsWith(DataPrefix))
                    {
                        firstEvent = Stopwatch.GetTimestamp();
                        break;
                    }

                    lineStart += newline + 1;
                }
            }

            var total = length;
            int more;
            while ((more = await body.ReadAsync(buffer, cancellationToken)) > 0)
            {
                total += more;
            }

            if (response.StatusCode != HttpStatusCode.OK)
            {
                return (0, $"HTTP {(int)response.StatusCode}");
            }

            return total == Payloads.StreamLength
                ? (Stopwatch.GetElapsedTime(start, firstEvent).TotalMilliseconds, null)
                : (0, $"stream of {total} bytes, expected {Payloads.StreamLength}");
        }
        catch (HttpRequestException ex)
        {
            return (0, ex.Message);
        }
        catch (IOException ex)
        {
            return (0, ex.Message);
        }
        catch (TaskCanceledException ex) when (!cancellationToken.IsCancellationRequested)
        {
            return (0, "timeout: " + ex.Message);
        }
    }
}
