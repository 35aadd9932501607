using System.Diagnostics;

namespace LlmProxy.Bench;

/// <summary>
/// The soak (<c>run --soak-requests N</c>): N requests closed-loop through one gateway setting (in-memory or Redis
/// limits) in segments of <c>--soak-sample-every</c>. After each segment the load pauses and the gateway's memory is
/// sampled: its resident memory (<c>VmRSS</c>), its GC heap after a forced full collection (<see cref="GcHeap"/>) and its
/// resident memory after that collection. The growth is measured from the first sample at or after
/// <c>--soak-warmup</c> requests (JIT, thread pool, connection pools and caches have settled by then) to the last.
/// </summary>
internal static class SoakRunner
{
    /// <summary>The goal: resident memory and GC heap grow by less than this from the warm-up sample to the last, in percent.</summary>
    public const double GrowthGoalPercent = 5;

    private const double Megabyte = 1e6;

    public static async Task<SoakResults> RunAsync(HttpClient client, Target target, ChildProcess upstream, IReadOnlyList<ChildProcess> servers,
        BenchOptions options, string dateUtc, MachineFacts machine, CancellationToken cancellationToken)
    {
        var gateway = target.Proxy ?? throw new BenchFailure("the soak needs a proxy target");
        Console.WriteLine($"Soak: {options.SoakRequests} requests through {target.Label}, closed loop, {options.Concurrency} concurrent workers; " +
            $"a memory sample every {options.SoakSampleEvery} requests (the load pauses for it): RSS (VmRSS), then the GC heap after a forced full " +
            $"collection (EventPipe GCHeapCollect, as dotnet-gcdump), then RSS again. Growth from the first sample at or after {options.SoakWarmup} requests (warm-up).");
        var samples = new List<SoakSample> { await SampleAsync(gateway, 0, 0, null, cancellationToken) };
        Print(samples[^1]);
        long done = 0, errors = 0;
        string? firstError = null;
        var loadTime = TimeSpan.Zero;
        var started = Stopwatch.GetTimestamp();
        while (done < options.SoakRequests)
        {
            var count = Math.Min(options.SoakSampleEvery, options.SoakRequests - done);
            var run = await LoadRunner.RunCountAsync(client, target, upstream, servers, options.Concurrency, count, cancellationToken);
            done += count;
            errors += run.Errors;
            firstError ??= run.FirstError;
            loadTime += run.Elapsed;
            samples.Add(await SampleAsync(gateway, done, errors, run, cancellationToken));
            Print(samples[^1]);
        }

        var elapsed = Stopwatch.GetElapsedTime(started);
        var baseline = samples.First(s => s.Requests > 0 && s.Requests >= options.SoakWarmup);
        var last = samples[^1];
        var results = new SoakResults
        {
            DateUtc = dateUtc,
            Machine = machine,
            Key = target.Key,
            Target = target.Label,
            Requests = options.SoakRequests,
            Concurrency = options.Concurrency,
            SampleEvery = options.SoakSampleEvery,
            WarmupRequests = options.SoakWarmup,
            Samples = samples,
            BaselineSampleRequests = baseline.Requests,
            RssGrowthPercent = Growth(baseline.RssMb, last.RssMb),
            GcHeapGrowthPercent = Growth(baseline.GcHeapMb, last.GcHeapMb),
            GrowthGoalPercent = GrowthGoalPercent,
            ClientErrors = errors,
            FirstError = firstError,
            LoadSeconds = loadTime.TotalSeconds,
            Problems = errors > 0 ? [$"{target.Label}: {errors} client error(s) in the soak (goal 0); first: {firstError}"] : [],
        };

        Console.WriteLine();
        Console.WriteLine($"Soak: {target.Label}, {options.SoakRequests} requests, {options.Concurrency} workers, " +
            $"{loadTime.TotalSeconds:0} s of load ({options.SoakRequests / loadTime.TotalSeconds:0} req/s), {elapsed.TotalSeconds:0} s with the samples");
        Console.WriteLine();
        TextTable.Print(
            ["requests", "req/s", "proxy CPU µs/req", "p99 ms", "errors", "RSS MB", "GC heap MB (after forced GC)", "LOH MB", "RSS after GC MB"],
            samples.Select(s => new[]
            {
                s.Requests == baseline.Requests ? $"{s.Requests} (warm-up)" : s.Requests.ToString(),
                Format(s.SegmentRequestsPerSecond, "0"),
                Format(s.SegmentProxyCpuUsPerRequest, "0.0"),
                Format(s.SegmentP99Ms, "0.000"),
                s.Errors.ToString(),
                s.RssMb.ToString("0.0"),
                s.GcHeapMb.ToString("0.0"),
                s.LargeObjectHeapMb.ToString("0.0"),
                s.RssAfterGcMb.ToString("0.0"),
            }));
        Console.WriteLine();
        Console.WriteLine($"growth from the sample at {baseline.Requests} requests (warm-up) to the last ({last.Requests}): " +
            $"RSS {Signed(results.RssGrowthPercent)}% ({baseline.RssMb:0.0} -> {last.RssMb:0.0} MB; target < {GrowthGoalPercent:0}%: {Verdict(results.RssGrowthPercent)}), " +
            $"GC heap {Signed(results.GcHeapGrowthPercent)}% ({baseline.GcHeapMb:0.0} -> {last.GcHeapMb:0.0} MB; target < {GrowthGoalPercent:0}%: {Verdict(results.GcHeapGrowthPercent)})");
        Console.WriteLine($"client errors: {errors} (target 0: {(errors == 0 ? "met" : "NOT met")})" + (firstError is null ? "" : $"; first: {firstError}"));
        return results;
    }

    private static async Task<SoakSample> SampleAsync(ChildProcess gateway, long requests, long errors, LoadRun? segment, CancellationToken cancellationToken)
    {
        var rss = gateway.ResidentBytes;
        var heap = await GcHeap.CollectAsync(gateway.Id, cancellationToken);
        var rssAfter = gateway.ResidentBytes;
        return new SoakSample
        {
            Requests = requests,
            Errors = errors,
            RssMb = rss / Megabyte,
            GcHeapMb = heap.Total / Megabyte,
            LargeObjectHeapMb = heap.LargeObjects / Megabyte,
            RssAfterGcMb = rssAfter / Megabyte,
            SegmentRequestsPerSecond = segment?.RequestsPerSecond,
            SegmentProxyCpuUsPerRequest = segment?.ProxyCpuMicrosPerRequest,
            SegmentP50Ms = segment is null ? null : segment.Latency.GetValueAtPercentile(50) / 1e6,
            SegmentP99Ms = segment is null ? null : segment.Latency.GetValueAtPercentile(99) / 1e6,
        };
    }

    private static void Print(SoakSample sample)
        => Console.WriteLine($"  {sample.Requests,9} requests  {Format(sample.SegmentRequestsPerSecond, "0"),6} req/s  " +
            $"proxy CPU {Format(sample.SegmentProxyCpuUsPerRequest, "0.0"),6} µs/req  errors {sample.Errors}  " +
            $"RSS {sample.RssMb,7:0.0} MB  GC heap {sample.GcHeapMb,6:0.0} MB  RSS after GC {sample.RssAfterGcMb,7:0.0} MB");

    private static double Growth(double from, double to) => from > 0 ? (to / from - 1) * 100 : double.NaN;

    private static string Verdict(double growthPercent) => growthPercent < GrowthGoalPercent ? "met" : "NOT met";

    private static string Format(double? value, string format) => value is { } v ? v.ToString(format) : "-";

    private static string Signed(double value) => (value >= 0 ? "+" : "") + value.ToString("0.0");
}
