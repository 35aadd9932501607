using System.Diagnostics;
using System.Net;

namespace LlmProxy.Bench;

/// <summary>
/// The open-streams mode (<c>run --open-streams N</c>): what an open stream costs a proxy in memory. For LlmProxy (its
/// in-memory-limits setting, model <see cref="Payloads.SlowModel"/>) and then for bare YARP, the driver samples the
/// proxy's memory idle, opens N streams at once against the fake upstream's slow variant (each on its own HTTP/1.1
/// connection; at most <see cref="OpeningAtOnce"/> waiting for their first event at a time, so the listen backlog never
/// overflows), waits until every stream has had its first event, samples the memory again, then lets the streams finish
/// and checks that each one ended with every byte and <c>data: [DONE]</c>. A sample is the resident memory (<c>VmRSS</c>),
/// then the GC heap after a forced full collection (<see cref="GcHeap"/>).
/// </summary>
internal static class OpenStreamsRunner
{
    /// <summary>Streams waiting for their first event at one time while the N are opened.</summary>
    public const int OpeningAtOnce = 64;

    private const double Megabyte = 1e6;
    private static readonly byte[] DataPrefix = "data:"u8.ToArray();
    private static readonly byte[] Done = "data: [DONE]\n\n"u8.ToArray();

    public static async Task<OpenStreamsResults> RunAsync(HttpClient client, Target gateway, Target yarp, ChildProcess upstream,
        IReadOnlyList<ChildProcess> servers, BenchOptions options, string dateUtc, MachineFacts machine, CancellationToken cancellationToken)
    {
        CheckFileLimit(options.OpenStreams);
        Console.WriteLine("Warming up both proxies: 5 s of non-streamed requests each (closed loop), then 200 short streams each...");
        foreach (var target in new[] { gateway, yarp })
        {
            await LoadRunner.RunAsync(client, target, upstream, servers, options.Concurrency, TimeSpan.FromSeconds(5), TimeSpan.FromMilliseconds(200), cancellationToken);
        }

        await StreamRunner.RunAsync(client, [yarp, gateway], 0, 200, cancellationToken);

        var chunks = Payloads.SlowStreamChunks(options.OpenStreamsSeconds, options.OpenStreamsChunkSeconds);
        var length = Payloads.SlowStreamEvents(chunks).Sum(static e => e.Length);
        Console.WriteLine();
        Console.WriteLine($"Open streams: {options.OpenStreams} at once per proxy, each {length} B in {chunks + 4} events over {options.OpenStreamsSeconds:0.##} s " +
            $"(a chunk every {options.OpenStreamsChunkSeconds:0.##} s); at most {OpeningAtOnce} waiting for their first event at a time");
        OpenStreamsProxy[] proxies =
        [
            await MeasureAsync(gateway, options, length, cancellationToken),
            await MeasureAsync(yarp with { ChatUri = new Uri(yarp.ChatUri, Payloads.SlowPrefix + "/v1/chat/completions") }, options, length, cancellationToken),
        ];

        var problems = new List<string>();
        foreach (var proxy in proxies)
        {
            if (proxy.Errors > 0)
            {
                problems.Add($"{proxy.Target}: {proxy.Errors} of {proxy.Streams} open streams failed (goal 0); first: {proxy.FirstError}");
            }

            if (proxy.EndedBeforeSample > 0)
            {
                problems.Add($"{proxy.Target}: {proxy.EndedBeforeSample} stream(s) ended before the memory sample with all of them open " +
                    "(opening took too long for --open-streams-seconds: raise it)");
            }
        }

        var results = new OpenStreamsResults
        {
            DateUtc = dateUtc,
            Machine = machine,
            Streams = options.OpenStreams,
            StreamSeconds = options.OpenStreamsSeconds,
            ChunkSeconds = options.OpenStreamsChunkSeconds,
            Proxies = proxies,
            // RSS rises in steps: with few streams either difference can be 0 or below, and then there is no ratio.
            RssPerStreamRatioOverYarp = proxies[0].RssMbPerStream > 0 && proxies[1].RssMbPerStream > 0 ? proxies[0].RssMbPerStream / proxies[1].RssMbPerStream : null,
            Problems = problems,
        };

        Console.WriteLine();
        Console.WriteLine($"Memory per open stream ({options.OpenStreams} streams open at once; idle = after the warm-up, before the streams; MB = 10^6 B)");
        Console.WriteLine();
        TextTable.Print(
            ["proxy", "idle RSS MB", "open RSS MB", "RSS MB per stream", "idle GC heap MB", "open GC heap MB", "GC heap KB per stream", "opened in s", "completed with [DONE]", "errors"],
            proxies.Select(static p => new[]
            {
                p.Target,
                p.IdleRssMb.ToString("0.0"),
                p.OpenRssMb.ToString("0.0"),
                p.RssMbPerStream.ToString("0.000"),
                p.IdleGcHeapMb.ToString("0.0"),
                p.OpenGcHeapMb.ToString("0.0"),
                p.GcHeapKbPerStream.ToString("0.0"),
                p.OpenSeconds.ToString("0.0"),
                $"{p.Completed} of {p.Streams}",
                p.Errors.ToString(),
            }));
        Console.WriteLine();
        Console.WriteLine($"RSS per open stream, LlmProxy (in-memory limits) / bare YARP: " +
            (results.RssPerStreamRatioOverYarp is { } ratio ? $"{ratio:0.00}x" : "n/a") +
            $" ({proxies[0].RssMbPerStream * 1000:0.0} KB against {proxies[1].RssMbPerStream * 1000:0.0} KB)");
        Console.WriteLine($"stream errors: {proxies.Sum(static p => p.Errors)} (target 0: {(proxies.All(static p => p.Errors == 0) ? "met" : "NOT met")})");
        return results;
    }

    /// <summary>One proxy: idle sample, N streams opened, open sample, the streams finished and checked.</summary>
    private static async Task<OpenStreamsProxy> MeasureAsync(Target target, BenchOptions options, int length, CancellationToken cancellationToken)
    {
        var proxy = target.Proxy ?? throw new BenchFailure("the open-streams mode needs a proxy target");
        var streams = options.OpenStreams;
        var (idleRss, idleHeap) = await SampleAsync(proxy, cancellationToken);
        Console.WriteLine($"  {target.Label}: idle RSS {idleRss / Megabyte:0.0} MB, GC heap {idleHeap / Megabyte:0.0} MB; opening {streams} streams...");

        using var client = CreateClient(streams);
        var state = new WaveState(streams);
        var started = Stopwatch.GetTimestamp();
        var tasks = new Task<string?>[streams];
        for (var i = 0; i < streams; i++)
        {
            tasks[i] = Task.Run(() => StreamAsync(client, target, length, state, cancellationToken), cancellationToken);
        }

        var everyTask = Task.WhenAll(tasks);
        // Every stream has had its first event or has failed; a stream that never answers fails at the client's timeout.
        await Task.WhenAny(state.AllOpen, everyTask);
        var openSeconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
        var (openRss, openHeap) = await SampleAsync(proxy, cancellationToken);
        var endedBeforeSample = state.EndedAfterOpening;
        Console.WriteLine($"  {target.Label}: {state.Opened} streams open after {openSeconds:0.0} s ({streams - state.Opened} failed before their first event): " +
            $"RSS {openRss / Megabyte:0.0} MB, GC heap {openHeap / Megabyte:0.0} MB; waiting for the streams to finish...");

        var outcomes = await everyTask;
        var errors = outcomes.Where(static e => e is not null).ToArray();
        return new OpenStreamsProxy
        {
            Key = target.Key,
            Target = target.Label,
            Streams = streams,
            IdleRssMb = idleRss / Megabyte,
            OpenRssMb = openRss / Megabyte,
            IdleGcHeapMb = idleHeap / Megabyte,
            OpenGcHeapMb = openHeap / Megabyte,
            RssMbPerStream = (openRss - idleRss) / Megabyte / streams,
            GcHeapKbPerStream = (openHeap - idleHeap) / 1e3 / streams,
            OpenSeconds = openSeconds,
            EndedBeforeSample = endedBeforeSample,
            Completed = streams - errors.Length,
            Errors = errors.Length,
            FirstError = errors.FirstOrDefault(),
        };
    }

    /// <summary>Resident memory, then the GC heap after a forced full collection, in bytes.</summary>
    private static async Task<(long Rss, long Heap)> SampleAsync(ChildProcess proxy, CancellationToken cancellationToken)
    {
        var rss = proxy.ResidentBytes;
        var heap = await GcHeap.CollectAsync(proxy.Id, cancellationToken);
        return (rss, heap.Total);
    }

    /// <summary>One slow stream: returns null when it ended with every byte and [DONE], else what went wrong.</summary>
    private static async Task<string?> StreamAsync(HttpClient client, Target target, int length, WaveState state, CancellationToken cancellationToken)
    {
        await state.Opening.WaitAsync(cancellationToken);
        var opened = false;
        try
        {
            using var request = target.CreateRequest(Payloads.SlowStreamingChatRequest);
            using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
            await using var body = await response.Content.ReadAsStreamAsync(cancellationToken);
            var buffer = new byte[length + 1024];
            var total = 0;
            var lineStart = 0;
            int read;
            while ((read = await body.ReadAsync(buffer.AsMemory(total, buffer.Length - total), cancellationToken)) > 0)
            {
                total += read;
                int newline;
                while (!opened && (newline = buffer.AsSpan(lineStart, total - lineStart).IndexOf((byte)'\n')) >= 0)
                {
                    if (buffer.AsSpan(lineStart, newline).StartsWith(DataPrefix))
                    {
                        opened = true;
                        state.MarkOpened();
                    }

                    lineStart += newline + 1;
                }

                if (total == buffer.Length)
                {
                    return $"stream longer than the {length} B expected";
                }
            }

            return response.StatusCode != HttpStatusCode.OK ? $"HTTP {(int)response.StatusCode}"
                : !buffer.AsSpan(0, total).EndsWith(Done) ? $"stream of {total} B without data: [DONE] at its end"
                : total != length ? $"stream of {total} B, expected {length}"
                : null;
        }
        catch (HttpRequestException ex)
        {
            return ex.Message;
        }
        catch (IOException ex)
        {
            return ex.Message;
        }
        catch (TaskCanceledException ex) when (!cancellationToken.IsCancellationRequested)
        {
            return "timeout: " + ex.Message;
        }
        finally
        {
            if (!opened)
            {
                state.MarkOpened(failed: true);
            }

            if (opened)
            {
                state.MarkEnded();
            }
        }
    }

    /// <summary>
    /// A client for one proxy's streams: one HTTP/1.1 connection per stream (MaxConnectionsPerServer above N), no overall
    /// timeout (a stream lasts the configured seconds; the connect timeout and the gateway's own idle timeout still apply).
    /// Disposed after the wave, which closes its connections.
    /// </summary>
    private static HttpClient CreateClient(int streams)
    {
        var handler = new SocketsHttpHandler
        {
            UseProxy = false,
            UseCookies = false,
            AllowAutoRedirect = false,
            AutomaticDecompression = DecompressionMethods.None,
            MaxConnectionsPerServer = streams + OpeningAtOnce,
            PooledConnectionLifetime = Timeout.InfiniteTimeSpan,
            ConnectTimeout = TimeSpan.FromSeconds(30),
        };
        return new HttpClient(handler) { Timeout = Timeout.InfiniteTimeSpan };
    }

    /// <summary>
    /// The proxy holds two sockets per open stream (the client's and the upstream's), the driver and the upstream one each:
    /// the open-files limit (inherited by every server) must allow that. run.sh raises the soft limit to the hard one.
    /// </summary>
    private static void CheckFileLimit(int streams)
    {
        var needed = 2L * streams + 1024;
        var line = File.ReadLines("/proc/self/limits").FirstOrDefault(static l => l.StartsWith("Max open files", StringComparison.Ordinal));
        var fields = line?["Max open files".Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (fields is { Length: > 0 } && long.TryParse(fields[0], System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out var soft)
            && soft < needed)
        {
            throw new BenchFailure($"--open-streams {streams} needs at least {needed} open files per process; the limit is {soft} (ulimit -n {needed}, or run bench/run.sh)");
        }
    }

    /// <summary>The counters of one wave of streams.</summary>
    private sealed class WaveState(int streams)
    {
        private readonly TaskCompletionSource _allOpen = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _settled;
        private int _opened;
        private int _ended;

        /// <summary>Streams allowed to wait for their first event at once.</summary>
        public SemaphoreSlim Opening { get; } = new(OpeningAtOnce);

        /// <summary>Completes when every stream has had its first event or has failed before it.</summary>
        public Task AllOpen => _allOpen.Task;

        public int Opened => Volatile.Read(ref _opened);

        /// <summary>Streams that had their first event and have ended since.</summary>
        public int EndedAfterOpening => Volatile.Read(ref _ended);

        /// <summary>A stream had its first event (or failed before it): the next one may start opening.</summary>
        public void MarkOpened(bool failed = false)
        {
            if (!failed)
            {
                Interlocked.Increment(ref _opened);
            }

            Opening.Release();
            if (Interlocked.Increment(ref _settled) == streams)
            {
                _allOpen.TrySetResult();
            }
        }

        public void MarkEnded() => Interlocked.Increment(ref _ended);
    }
}
