using System.Diagnostics;
using System.Net;
using HdrHistogram;

namespace LlmProxy.Bench;

/// <summary>
/// C workers each send a request, read the whole answer and send the next: as fast as they can (closed loop), or,
/// with a rate, each request at its scheduled time (request i at start + i / rate; a late one goes at once, so the
/// average rate holds while the proxy keeps up). After the warm-up,
/// every request that completes inside the measured window is counted; the proxy's CPU time is read at the
/// window's edges.
/// </summary>
internal static class LoadRunner
{
    /// <summary>Highest latency recorded: 60 s in nanoseconds.</summary>
    public const long HighestNanoseconds = 60_000_000_000;

    private const int Warmup = 0;
    private const int Measuring = 1;
    private const int Stopped = 2;

    public static LongHistogram NewHistogram() => new(HighestNanoseconds, 3);

    public static async Task<LoadRun> RunAsync(HttpClient client, Target target, ChildProcess upstream, IReadOnlyList<ChildProcess> servers,
        int concurrency, TimeSpan warmup, TimeSpan duration, CancellationToken cancellationToken, double rate = 0)
    {
        var phase = new Phase(rate);
        var workers = new Worker[concurrency];
        var tasks = new Task[concurrency];
        for (var i = 0; i < concurrency; i++)
        {
            var worker = workers[i] = new Worker();
            tasks[i] = Task.Run(() => worker.LoopAsync(client, target, phase, cancellationToken), cancellationToken);
        }

        using var self = Process.GetCurrentProcess();
        try
        {
            await Task.Delay(warmup, cancellationToken);

            var machineBefore = SystemCpu.ReadBusy();
            var serversBefore = SumCpu(servers);
            var proxyBefore = target.Proxy?.CpuTime;
            var sidecarBefore = target.Sidecar?.CpuTime;
            var upstreamBefore = upstream.CpuTime;
            self.Refresh();
            var clientBefore = self.TotalProcessorTime;
            var started = Stopwatch.GetTimestamp();
            phase.Set(Measuring);

            await Task.Delay(duration, cancellationToken);

            phase.Set(Stopped);
            var elapsed = Stopwatch.GetElapsedTime(started);
            var proxyAfter = target.Proxy?.CpuTime;
            var sidecarAfter = target.Sidecar?.CpuTime;
            var upstreamAfter = upstream.CpuTime;
            self.Refresh();
            var clientAfter = self.TotalProcessorTime;
            var serversAfter = SumCpu(servers);
            var machineAfter = SystemCpu.ReadBusy();

            await Task.WhenAll(tasks);

            var latency = NewHistogram();
            long requests = 0, errors = 0, warmupErrors = 0;
            string? firstError = null;
            foreach (var worker in workers)
            {
                latency.Add(worker.Latency);
                requests += worker.Requests;
                errors += worker.Errors;
                warmupErrors += worker.WarmupErrors;
                firstError ??= worker.FirstError;
            }

            return new LoadRun
            {
                Requests = requests,
                Errors = errors,
                WarmupErrors = warmupErrors,
                FirstError = firstError,
                Elapsed = elapsed,
                ProxyCpu = proxyAfter - proxyBefore,
                SidecarCpu = sidecarAfter - sidecarBefore,
                UpstreamCpu = upstreamAfter - upstreamBefore,
                ClientCpu = clientAfter - clientBefore,
                OtherCpu = machineAfter - machineBefore - (serversAfter - serversBefore) - (clientAfter - clientBefore),
                Latency = latency,
            };
        }
        finally
        {
            phase.Set(Stopped);
            try
            {
                await Task.WhenAll(tasks);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                // Ctrl+C: the workers stopped
            }
        }
    }

    /// <summary>
    /// Exactly <paramref name="requests"/> requests (successes and errors) by C workers as fast as answers come back
    /// (closed loop), every one recorded: no warm-up, no time window. The soak's segments; CPU times are read before the
    /// first request and after the last.
    /// </summary>
    public static async Task<LoadRun> RunCountAsync(HttpClient client, Target target, ChildProcess upstream, IReadOnlyList<ChildProcess> servers,
        int concurrency, long requests, CancellationToken cancellationToken)
    {
        var phase = new Phase(0, requests);
        phase.Set(Measuring);
        using var self = Process.GetCurrentProcess();
        var machineBefore = SystemCpu.ReadBusy();
        var serversBefore = SumCpu(servers);
        var proxyBefore = target.Proxy?.CpuTime;
        var sidecarBefore = target.Sidecar?.CpuTime;
        var upstreamBefore = upstream.CpuTime;
        var clientBefore = self.TotalProcessorTime;
        var started = Stopwatch.GetTimestamp();
        var workers = new Worker[concurrency];
        var tasks = new Task[concurrency];
        for (var i = 0; i < concurrency; i++)
        {
            var worker = workers[i] = new Worker();
            tasks[i] = Task.Run(() => worker.LoopAsync(client, target, phase, cancellationToken), cancellationToken);
        }

        await Task.WhenAll(tasks);
        var elapsed = Stopwatch.GetElapsedTime(started);
        var proxyAfter = target.Proxy?.CpuTime;
        var sidecarAfter = target.Sidecar?.CpuTime;
        var upstreamAfter = upstream.CpuTime;
        self.Refresh();
        var clientAfter = self.TotalProcessorTime;
        var serversAfter = SumCpu(servers);
        var machineAfter = SystemCpu.ReadBusy();
        var latency = NewHistogram();
        foreach (var worker in workers)
        {
            latency.Add(worker.Latency);
        }

        return new LoadRun
        {
            Requests = workers.Sum(static w => w.Requests),
            Errors = workers.Sum(static w => w.Errors),
            FirstError = workers.Select(static w => w.FirstError).FirstOrDefault(static e => e is not null),
            Elapsed = elapsed,
            ProxyCpu = proxyAfter - proxyBefore,
            SidecarCpu = sidecarAfter - sidecarBefore,
            UpstreamCpu = upstreamAfter - upstreamBefore,
            ClientCpu = clientAfter - clientBefore,
            OtherCpu = machineAfter - machineBefore - (serversAfter - serversBefore) - (clientAfter - clientBefore),
            Latency = latency,
        };
    }

    private static TimeSpan SumCpu(IReadOnlyList<ChildProcess> servers)
    {
        var total = TimeSpan.Zero;
        foreach (var server in servers)
        {
            total += server.CpuTime;
        }

        return total;
    }

    /// <summary>Where a run is (warm-up, measuring, stopped), its schedule with a rate, and its request budget with a count.</summary>
    private sealed class Phase(double rate, long limit = long.MaxValue)
    {
        private readonly long _start = Stopwatch.GetTimestamp();
        private readonly double _ticksPerRequest = rate > 0 ? Stopwatch.Frequency / rate : 0;
        private long _tickets;
        private long _taken;
        private int _value = Warmup;

        public int Value => Volatile.Read(ref _value);

        public void Set(int value) => Volatile.Write(ref _value, value);

        /// <summary>False once the run's request budget is spent (a count-limited run); always true otherwise.</summary>
        public bool TryTake() => limit == long.MaxValue || Interlocked.Increment(ref _taken) <= limit;

        /// <summary>With a rate, waits until the next request is due.</summary>
        public Task WaitTurnAsync(CancellationToken cancellationToken)
        {
            if (_ticksPerRequest == 0)
            {
                return Task.CompletedTask;
            }

            var due = _start + (long)(Interlocked.Increment(ref _tickets) * _ticksPerRequest);
            var wait = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), due);
            return wait > TimeSpan.Zero ? Task.Delay(wait, cancellationToken) : Task.CompletedTask;
        }
    }

    private sealed class Worker
    {
        private readonly byte[] _buffer = new byte[16 * 1024];

        public LongHistogram Latency { get; } = NewHistogram();

        public long Requests { get; private set; }

        public long Errors { get; private set; }

        public long WarmupErrors { get; private set; }

        public string? FirstError { get; private set; }

        public async Task LoopAsync(HttpClient client, Target target, Phase phase, CancellationToken cancellationToken)
        {
            while (phase.Value != Stopped && !cancellationToken.IsCancellationRequested && phase.TryTake())
            {
                await phase.WaitTurnAsync(cancellationToken);
                var start = Stopwatch.GetTimestamp();
                var error = await SendAsync(client, target, cancellationToken);
                var end = Stopwatch.GetTimestamp();
                var now = phase.Value;
                if (error is null)
                {
                    if (now == Measuring)
                    {
                        Requests++;
                        Latency.RecordValue(Math.Min(HighestNanoseconds, (long)Stopwatch.GetElapsedTime(start, end).TotalNanoseconds));
                    }

                    continue;
                }

                FirstError ??= error;
                if (now == Measuring)
                {
                    Errors++;
                }
                else if (now == Warmup)
                {
                    WarmupErrors++;
                }
            }
        }

        /// <summary>Sends one chat request and reads the whole answer; returns null on success, else what went wrong.</summary>
        private async Task<string?> SendAsync(HttpClient client, Target target, CancellationToken cancellationToken)
        {
            try
            {
                using var request = target.CreateRequest(Payloads.ChatRequest);
                using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
                await using var body = await response.Content.ReadAsStreamAsync(cancellationToken);
                var total = 0;
                int read;
                while ((read = await body.ReadAsync(_buffer, cancellationToken)) > 0)
                {
                    total += read;
                }

                if (response.StatusCode != HttpStatusCode.OK)
                {
                    return $"HTTP {(int)response.StatusCode}";
                }

                return total == Payloads.ChatCompletion.Length ? null : $"body of {total} bytes, expected {Payloads.ChatCompletion.Length}";
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
        }
    }
}
