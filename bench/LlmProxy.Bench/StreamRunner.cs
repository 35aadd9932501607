using System.Diagnostics;
using System.Net;

namespace LlmProxy.Bench;

/// <summary>
/// Time to first event: sequential <c>"stream":true</c> requests, timed from <c>SendAsync</c> (response headers
/// read) until the first complete <c>data:</c> line has been read from the body. The rest is drained untimed.
/// </summary>
internal static class StreamRunner
{
    private static readonly byte[] DataPrefix = "data:"u8.ToArray();

    /// <summary>Samples per target, interleaved: sample i visits every target, starting with a rotating one.</summary>
    public static async Task<StreamSamples[]> RunAsync(HttpClient client, IReadOnlyList<Target> targets, int warmup, int samples,
        CancellationToken cancellationToken)
    {
        var buffer = new byte[16 * 1024];
        var results = targets.Select(t => new StreamSamples(t, samples)).ToArray();
        for (var i = 0; i < warmup; i++)
        {
            for (var j = 0; j < targets.Count; j++)
            {
                var result = results[(i + j) % targets.Count];
                var (_, error) = await SampleAsync(client, result.Target, buffer, cancellationToken);
                if (error is not null)
                {
                    result.AddError(error);
                }
            }
        }

        foreach (var result in results)
        {
            result.ResetErrors();
        }

        for (var i = 0; i < samples; i++)
        {
            for (var j = 0; j < targets.Count; j++)
            {
                var result = results[(i + j) % targets.Count];
                var (milliseconds, error) = await SampleAsync(client, result.Target, buffer, cancellationToken);
                if (error is null)
                {
                    result.Add(milliseconds);
                }
                else
                {
                    result.AddError(error);
                }
            }
        }

        return results;
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
