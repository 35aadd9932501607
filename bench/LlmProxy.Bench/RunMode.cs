using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Runtime;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using HdrHistogram;

namespace LlmProxy.Bench;

/// <summary>
/// <c>run</c>: starts the fake upstream, bare YARP and LlmProxy as separate processes (LlmProxy is measured with
/// metering on and off, with in-memory and with Redis limits, and with a second, failing target, switched by config
/// reload), measures non-streamed throughput, latency and proxy CPU per request in interleaved rounds, then streamed
/// time to first event, and prints the tables. With <c>--soak-requests</c> or <c>--open-streams</c> it runs the soak
/// or the open streams instead of those phases.
/// </summary>
internal static class RunMode
{
    private const string BenchKey = "sk-llmproxy-bench-7f3a9c21d4e8b650";
    private const double CpuRatioGoal = 1.2;
    private const double MeteringCpuRatioGoal = 1.05;
    private const double AddedTtftGoalMs = 0.2;
    private const double ErrorLimit = 0.01;

    private const string DirectKey = "direct";
    private const string YarpKey = "yarp";
    private const string LlmProxyKey = "llmproxy";
    private const string MeteringOffKey = "llmproxy_metering_off";
    private const string RedisLimitsKey = "llmproxy_redis_limits";
    private const string MemoryLimitsKey = "llmproxy_memory_limits";
    private const string BaselineKey = "llmproxy_baseline";
    private const string FailoverKey = "llmproxy_failover";
    private const string FailingProviderName = "up-fail20";
    private const string SlowProviderName = "up-slow";
    private const double LimitsCpuRatioGoal = 1.5;
    private const double MemoryLimitsCpuRatioGoal = 1.2;
    private const double LimitsThroughputGoal = 0.6;

    private static readonly TimeSpan StartupTimeout = TimeSpan.FromSeconds(60);

    public static async Task<int> RunAsync(BenchOptions options, CancellationToken cancellationToken)
    {
        var llmProxyDll = ResolveLlmProxyDll(options.LlmProxyDll);
        var baselineDll = options.BaselineDll is { } baseline ? ResolveLlmProxyDll(baseline) : null;
        if (options.Pin)
        {
            ChildProcess.PinProxies();
        }

        var dotnet = DotnetHost();
        var benchDll = Path.Combine(AppContext.BaseDirectory, "LlmProxy.Bench.dll");
        var machine = DescribeMachine();
        var settings = new SettingsFacts(options.Rounds, options.Seconds, options.WarmupSeconds, options.Concurrency,
            options.StreamSamples, options.StreamWarmup, Payloads.ChatRequest.Length, Payloads.ChatCompletion.Length, Payloads.StreamLength);
        var date = DateTime.UtcNow;
        PrintHeader(date, machine, settings, options, llmProxyDll, baselineDll);

        Target.AuthorizationValue = "Bearer " + BenchKey;
        var workDirectory = Directory.CreateTempSubdirectory("llmproxy-bench-");
        try
        {
            // Every server gets the same environment; only the LlmProxy processes get their config and URL.
            var environment = new Dictionary<string, string?>
            {
                ["ASPNETCORE_ENVIRONMENT"] = "Production",
                ["DOTNET_ENVIRONMENT"] = null,
                ["ASPNETCORE_URLS"] = null,
                ["LLMPROXY_CONFIG"] = null,
                ["Logging__LogLevel__Default"] = "Warning",
                // An OTLP endpoint would switch on the gateway's tracing and export; the bench measures without them.
                ["OTEL_EXPORTER_OTLP_ENDPOINT"] = null,
            };
            if (options.NoSpin)
            {
                // Idle thread-pool workers spin before they sleep; that CPU time varies with scheduling luck from run
                // to run. Without it, CPU per request measures the work done (the same setting for every server).
                environment["DOTNET_ThreadPool_UnfairSemaphoreSpinLimit"] = "0";
            }

            var upstreamPort = FreePort();
            using var upstream = ChildProcess.Start("upstream", dotnet,
                [benchDll, "upstream", "--port", Invariant(upstreamPort), "--open-streams-seconds", Invariant(options.OpenStreamsSeconds),
                    "--open-streams-chunk-seconds", Invariant(options.OpenStreamsChunkSeconds)], environment);
            await WaitReadyAsync(upstream, new Uri($"http://127.0.0.1:{upstreamPort}/"), cancellationToken);

            var yarpPort = FreePort();
            using var yarp = ChildProcess.Start("bare YARP", dotnet,
                [benchDll, "yarp", "--port", Invariant(yarpPort), "--upstream", $"http://127.0.0.1:{upstreamPort}/"], environment, proxy: true);
            await WaitReadyAsync(yarp, new Uri($"http://127.0.0.1:{yarpPort}/"), cancellationToken);

            // One gateway; the driver switches metering on and off in its config before each of its runs.
            var llmProxyPort = FreePort();
            var configPath = Path.Combine(workDirectory.FullName, "llmproxy.json");
            using var client = CreateClient(options.Concurrency);
            var llmProxyUri = new Uri($"http://127.0.0.1:{llmProxyPort}/v1/chat/completions");
            var redisPort = FreePort();
            using var redis = await StartRedisAsync(redisPort, environment, cancellationToken);
            var modes = new GatewayModeSwitch(configPath, mode => LlmProxyConfig(upstreamPort, redisPort, mode, slowModel: options.OpenStreams > 0), client, llmProxyUri);
            await modes.WriteAsync(GatewayMode.MeteringOn, cancellationToken);
            using var llmProxy = await StartLlmProxyAsync("LlmProxy", configPath, llmProxyPort, dotnet, llmProxyDll, environment, cancellationToken);

            // Another build of the gateway, with the same config (metering on), measured as one more target.
            ChildProcess? baselineProxy = null;
            Uri? baselineUri = null;
            if (baselineDll is not null)
            {
                var baselinePort = FreePort();
                var baselineConfig = Path.Combine(workDirectory.FullName, "llmproxy-baseline.json");
                await File.WriteAllTextAsync(baselineConfig, LlmProxyConfig(upstreamPort, redisPort, GatewayMode.MeteringOn), cancellationToken);
                baselineProxy = await StartLlmProxyAsync("LlmProxy (baseline build)", baselineConfig, baselinePort, dotnet, baselineDll, environment, cancellationToken);
                baselineUri = new Uri($"http://127.0.0.1:{baselinePort}/v1/chat/completions");
            }

            using var baselineScope = baselineProxy;

            // The paired phase's second gateway: the same build and config as the first, switched the same way.
            ChildProcess? secondProxy = null;
            Target? secondTarget = null;
            GatewayModeSwitch? secondModes = null;
            if (options.PairedRounds > 0)
            {
                var secondPort = FreePort();
                var secondConfig = Path.Combine(workDirectory.FullName, "llmproxy-2.json");
                var secondUri = new Uri($"http://127.0.0.1:{secondPort}/v1/chat/completions");
                secondModes = new GatewayModeSwitch(secondConfig, mode => LlmProxyConfig(upstreamPort, redisPort, mode), client, secondUri);
                await secondModes.WriteAsync(GatewayMode.MeteringOn, cancellationToken);
                secondProxy = await StartLlmProxyAsync("LlmProxy #2", secondConfig, secondPort, dotnet, llmProxyDll, environment, cancellationToken);
                secondTarget = new Target("llmproxy_2", "LlmProxy #2", secondUri, secondProxy);
            }

            using var secondScope = secondProxy;

            Console.WriteLine($"servers     upstream :{upstreamPort} (pid {upstream.Id}), bare YARP :{yarpPort} (pid {yarp.Id}), " +
                $"LlmProxy :{llmProxyPort} (pid {llmProxy.Id}; settings switched by config reload), redis-server :{redisPort} (pid {redis.Id})" +
                (baselineProxy is null ? "" : $", baseline LlmProxy :{baselineUri!.Port} (pid {baselineProxy.Id})"));
            if (options.NoSpin)
            {
                Console.WriteLine("no spin     every server runs with DOTNET_ThreadPool_UnfairSemaphoreSpinLimit=0");
            }

            if (ChildProcess.PinnedProxyProcessors is { } pinned)
            {
                Console.WriteLine($"pinned      proxies on processor {pinned}; driver, upstream and redis-server on {ChildProcess.PinnedOtherProcessors}");
            }

            Console.WriteLine();

            Target[] targets =
            [
                new(DirectKey, "direct", new Uri($"http://127.0.0.1:{upstreamPort}/v1/chat/completions"), null),
                new(YarpKey, "bare YARP", new Uri($"http://127.0.0.1:{yarpPort}/v1/chat/completions"), yarp),
                new(LlmProxyKey, "LlmProxy (metering on)", llmProxyUri, llmProxy) { Prepare = ct => modes.SetAsync(GatewayMode.MeteringOn, ct) },
                new(MeteringOffKey, "LlmProxy (metering off)", llmProxyUri, llmProxy)
                {
                    Prepare = ct => modes.SetAsync(GatewayMode.MeteringOff, ct),
                    Streams = false,
                },
                new(MemoryLimitsKey, "LlmProxy (in-memory limits)", llmProxyUri, llmProxy)
                {
                    Prepare = ct => modes.SetAsync(GatewayMode.MemoryLimits, ct),
                },
                new(RedisLimitsKey, "LlmProxy (Redis limits)", llmProxyUri, llmProxy)
                {
                    Prepare = ct => modes.SetAsync(GatewayMode.RedisLimits, ct),
                    Sidecar = redis,
                },
                new(FailoverKey, "LlmProxy (failover)", llmProxyUri, llmProxy)
                {
                    Prepare = ct => modes.SetAsync(GatewayMode.Failover, ct),
                    Streams = false,
                    Attempts = new GatewayAttempts(client, new Uri($"http://127.0.0.1:{llmProxyPort}/metrics")),
                },
            ];
            ChildProcess[] servers = [upstream, yarp, llmProxy, redis];
            if (options.SoakRequests > 0 || options.OpenStreams > 0)
            {
                return await RunInsteadOfPhasesAsync(client, targets, upstream, servers, options, date, machine, cancellationToken);
            }

            if (options.SkipLimits)
            {
                targets = [.. targets.Where(static t => t.Key is not (RedisLimitsKey or MemoryLimitsKey or DirectKey or FailoverKey))];
            }

            if (baselineProxy is not null)
            {
                targets = [.. targets, new(BaselineKey, "LlmProxy (baseline build)", baselineUri!, baselineProxy) { Streams = false }];
                servers = [.. servers, baselineProxy];
            }

            if (secondProxy is not null)
            {
                servers = [.. servers, secondProxy];
            }

            if (options.Targets is { } keys)
            {
                targets = [.. targets.Where(t => keys.Contains(t.Key))];
                if (!targets.Any(static t => t.Key == LlmProxyKey))
                {
                    throw new BenchFailure($"--targets must include {LlmProxyKey}");
                }
            }

            foreach (var target in targets)
            {
                await PrepareAsync(target, cancellationToken);
                await CheckOnceAsync(client, target, cancellationToken);
            }

            var proxies = targets.Where(static t => t.Proxy is not null).ToArray();
            if (options.EqualLoadOnly)
            {
                // Long comparisons: JIT warm-up first (the closed loop's initial warm-up is skipped with it).
                Console.WriteLine("Warming up every target for 5 s...");
                foreach (var target in proxies)
                {
                    await PrepareAsync(target, cancellationToken);
                    await LoadRunner.RunAsync(client, target, upstream, servers, options.Concurrency, TimeSpan.FromSeconds(5), TimeSpan.FromMilliseconds(200), cancellationToken);
                }
            }

            var closedLoop = options.EqualLoadOnly ? LoadPhase.Empty : await RunNonStreamingAsync(client, targets, upstream, servers, options, rate: null, cancellationToken);
            var rate = options.Rate > 0 ? options.Rate : Math.Floor(0.75 * closedLoop.Results.Where(static r => r.ProxyCpuUsPerRequest is not null).Min(static r => r.RequestsPerSecond));
            Console.WriteLine();
            var equalLoad = await RunNonStreamingAsync(client, proxies, upstream, servers, options, rate, cancellationToken);

            PairedPhase? paired = null;
            if (secondTarget is not null)
            {
                Console.WriteLine();
                var pairedRate = Math.Floor(rate / 2);
                var first = targets.Single(static t => t.Key == LlmProxyKey);
                var baselineTarget = targets.SingleOrDefault(static t => t.Key == BaselineKey);
                Console.WriteLine("Warming up LlmProxy #2 for 5 s...");
                await LoadRunner.RunAsync(client, secondTarget, upstream, servers, options.Concurrency, TimeSpan.FromSeconds(5), TimeSpan.FromMilliseconds(200), cancellationToken);
                paired = await PairedRunner.RunAsync(client, upstream, servers, options, pairedRate, first, modes, secondTarget, secondModes!, baselineTarget, cancellationToken);
            }

            var streamTargets = options.EqualLoadOnly ? [] : targets.Where(static t => t.Streams).ToArray();
            foreach (var target in streamTargets)
            {
                await PrepareAsync(target, cancellationToken);
            }

            StreamSamples[] streamSamples = [];
            if (streamTargets.Length > 0)
            {
                Console.WriteLine();
                Console.WriteLine($"Streaming: {options.StreamWarmup} warm-up + {options.StreamSamples} recorded sequential samples per target, interleaved...");
                streamSamples = await StreamRunner.RunAsync(client, streamTargets, options.StreamWarmup, options.StreamSamples, cancellationToken);
            }

            var streamResults = streamSamples.Select(SummarizeStream).ToArray();

            var results = BuildResults(date, machine, settings, closedLoop, equalLoad, streamResults) with { Paired = paired };
            PrintResults(results, settings);
            PrintServerOutput(servers, llmProxy, failover: targets.Any(static t => t.Key == FailoverKey));
            await WriteJsonAsync(options, results, cancellationToken);
            return ReportProblems(results.Problems);
        }
        finally
        {
            ChildProcess.KillAll();
            try
            {
                workDirectory.Delete(recursive: true);
            }
            catch (IOException)
            {
                // left in the temp folder
            }
        }
    }

    /// <summary>
    /// The soak (<see cref="SoakRunner"/>) or the open streams (<see cref="OpenStreamsRunner"/>), which replace the normal
    /// phases: one request through bare YARP and the gateway's setting as a check, the run, its JSON; the exit code.
    /// </summary>
    private static async Task<int> RunInsteadOfPhasesAsync(HttpClient client, Target[] targets, ChildProcess upstream, ChildProcess[] servers,
        BenchOptions options, DateTime date, MachineFacts machine, CancellationToken cancellationToken)
    {
        var key = options.SoakRequests > 0 && options.SoakMode == GatewayMode.RedisLimits ? RedisLimitsKey : MemoryLimitsKey;
        var gatewayTarget = targets.Single(t => t.Key == key);
        var yarpTarget = targets.Single(static t => t.Key == YarpKey);
        foreach (var target in new[] { yarpTarget, gatewayTarget })
        {
            await PrepareAsync(target, cancellationToken);
            await CheckOnceAsync(client, target, cancellationToken);
        }

        var dateUtc = date.ToString("yyyy-MM-dd HH:mm 'UTC'");
        IReadOnlyList<string> problems;
        if (options.SoakRequests > 0)
        {
            var soak = await SoakRunner.RunAsync(client, gatewayTarget, upstream, servers, options, dateUtc, machine, cancellationToken);
            problems = soak.Problems;
            PrintServerOutput(servers, gatewayTarget.Proxy!, failover: false);
            await WriteJsonAsync(options, soak, cancellationToken);
        }
        else
        {
            var open = await OpenStreamsRunner.RunAsync(client, gatewayTarget, yarpTarget, upstream, servers, options, dateUtc, machine, cancellationToken);
            problems = open.Problems;
            PrintServerOutput(servers, gatewayTarget.Proxy!, failover: false);
            await WriteJsonAsync(options, open, cancellationToken);
        }

        return ReportProblems(problems);
    }

    /// <summary>What the servers wrote (they run at Warning): the gateway's failover warnings in short, anything else as is.</summary>
    private static void PrintServerOutput(ChildProcess[] servers, ChildProcess llmProxy, bool failover)
    {
        foreach (var child in servers)
        {
            if (child.LineCount > 0 && child == llmProxy && failover)
            {
                // The failover runs: the gateway warns once per failed attempt (event 6001, two lines each).
                Console.WriteLine();
                Console.WriteLine($"note: {child.Name} wrote {child.LineCount} line(s) of output, with the failover setting's warnings " +
                    "(event 6001: two lines per failed attempt, as a deployment logs them); the last ones:");
                Console.WriteLine(string.Join('\n', child.RecentOutput.Split('\n').TakeLast(4)));
            }
            else if (child.LineCount > 0)
            {
                Console.WriteLine();
                Console.WriteLine($"note: {child.Name} wrote {child.LineCount} line(s) of output; the last ones:");
                Console.WriteLine(child.RecentOutput);
            }
        }
    }

    private static async Task WriteJsonAsync<T>(BenchOptions options, T results, CancellationToken cancellationToken)
    {
        if (options.JsonPath is { } jsonPath)
        {
            await JsonOutput.WriteAsync(jsonPath, results, cancellationToken);
        }
    }

    /// <summary>Prints the problems that make the run fail; exit code 1 when there are any, else 0.</summary>
    private static int ReportProblems(IReadOnlyList<string> problems)
    {
        if (problems.Count == 0)
        {
            return 0;
        }

        Console.WriteLine();
        foreach (var problem in problems)
        {
            Console.Error.WriteLine($"error: {problem}");
        }

        return 1;
    }

    /// <summary>
    /// Starts the gateway on <paramref name="port"/> with the config at <paramref name="configPath"/> and waits for
    /// <c>/health/live</c>. The gateway runs from its output folder, as deployed. Its appsettings.json sets "Urls", which
    /// outranks ASPNETCORE_URLS in ASP.NET Core's configuration order, so the URL is also given on the command line.
    /// </summary>
    private static async Task<ChildProcess> StartLlmProxyAsync(string name, string configPath, int port, string dotnet,
        string llmProxyDll, Dictionary<string, string?> environment, CancellationToken cancellationToken)
    {
        var llmProxyEnvironment = new Dictionary<string, string?>(environment)
        {
            ["LLMPROXY_CONFIG"] = configPath,
            ["ASPNETCORE_URLS"] = $"http://127.0.0.1:{port}",
            [ProviderKeyVariable] = ProviderKey,
        };
        // On failure the caller's finally block kills it (ChildProcess.KillAll).
        var child = ChildProcess.Start(name, dotnet, [llmProxyDll, "--urls", $"http://127.0.0.1:{port}"],
            llmProxyEnvironment, Path.GetDirectoryName(llmProxyDll), proxy: true);
        await WaitReadyAsync(child, new Uri($"http://127.0.0.1:{port}/health/live"), cancellationToken);
        return child;
    }

    private static Task PrepareAsync(Target target, CancellationToken cancellationToken)
        => target.Prepare is { } prepare ? prepare(cancellationToken) : Task.CompletedTask;

    private static async Task<LoadPhase> RunNonStreamingAsync(HttpClient client, Target[] targets,
        ChildProcess upstream, ChildProcess[] servers, BenchOptions options, double? rate, CancellationToken cancellationToken)
    {
        var warmup = TimeSpan.FromSeconds(options.WarmupSeconds);
        var duration = TimeSpan.FromSeconds(options.Seconds);

        // Let every server's JIT reach its optimized code, and its GC and thread pool settle, before the first round.
        if (rate is null)
        {
            var initialWarmup = TimeSpan.FromSeconds(Math.Max(5, 2 * options.WarmupSeconds));
            Console.WriteLine($"Warming up every target for {initialWarmup.TotalSeconds:0.#} s...");
            foreach (var target in targets)
            {
                await PrepareAsync(target, cancellationToken);
                await LoadRunner.RunAsync(client, target, upstream, servers, options.Concurrency, initialWarmup, TimeSpan.FromMilliseconds(200), cancellationToken);
            }
        }

        var load = rate is { } perSecond ? $"equal load, {perSecond:0} req/s for every proxy" : "closed loop";
        Console.WriteLine($"Non-streaming ({load}): {options.Rounds} rounds, {options.Seconds:0.##} s per target after {options.WarmupSeconds:0.##} s warm-up, " +
            $"{options.Concurrency} concurrent workers");
        var runs = targets.ToDictionary(static t => t.Key, static _ => new List<LoadRun>());
        var yarpRatios = new double?[options.Rounds];
        var meteringRatios = new double?[options.Rounds];
        var baselineRatios = new double?[options.Rounds];
        var failoverRatios = new double?[options.Rounds];
        var memoryRatios = new double?[options.Rounds];
        var redisRatios = new double?[options.Rounds];
        var redisWithServerRatios = new double?[options.Rounds];
        var hasBaseline = runs.ContainsKey(BaselineKey);
        var hasFailover = runs.ContainsKey(FailoverKey);
        var hasMemory = runs.ContainsKey(MemoryLimitsKey);
        var hasRedis = runs.ContainsKey(RedisLimitsKey);
        var attempts = new Dictionary<string, long>(StringComparer.Ordinal);
        var labelWidth = targets.Max(static t => t.Label.Length);
        for (var round = 0; round < options.Rounds; round++)
        {
            for (var i = 0; i < targets.Length; i++)
            {
                var target = targets[(round + i) % targets.Length];
                await PrepareAsync(target, cancellationToken);
                var attemptsBefore = target.Attempts is { } counter ? await counter.ReadAsync(cancellationToken) : null;
                var run = await LoadRunner.RunAsync(client, target, upstream, servers, options.Concurrency, warmup, duration, cancellationToken, rate ?? 0);
                var runAttempts = attemptsBefore is null ? null : GatewayAttempts.Difference(attemptsBefore, await target.Attempts!.ReadAsync(cancellationToken));
                runs[target.Key].Add(run);
                foreach (var (outcome, count) in runAttempts ?? [])
                {
                    attempts[outcome] = attempts.GetValueOrDefault(outcome) + count;
                }

                Console.WriteLine($"  round {round + 1}/{options.Rounds}  {target.Label.PadRight(labelWidth)} {run.RequestsPerSecond,7:0} req/s  " +
                    $"p50 {Ms(run.Latency, 50),6:0.000} ms  p99 {Ms(run.Latency, 99),6:0.000} ms  " +
                    $"proxy CPU {Format(run.ProxyCpuMicrosPerRequest, "0.0"),6} µs/req  errors {run.Errors + run.WarmupErrors}  " +
                    $"other processes {Format(run.OtherCpuShare * 100, "0"),2}% CPU" +
                    (runAttempts is null ? "" : $"  attempts: {DescribeAttempts(runAttempts)}"));
            }

            var llmProxyCpu = runs[LlmProxyKey][round].ProxyCpuMicrosPerRequest;
            yarpRatios[round] = runs.TryGetValue(YarpKey, out var yarpRuns) ? Ratio(llmProxyCpu, yarpRuns[round].ProxyCpuMicrosPerRequest) : null;
            meteringRatios[round] = runs.TryGetValue(MeteringOffKey, out var offRuns) ? Ratio(llmProxyCpu, offRuns[round].ProxyCpuMicrosPerRequest) : null;
            baselineRatios[round] = hasBaseline ? Ratio(llmProxyCpu, runs[BaselineKey][round].ProxyCpuMicrosPerRequest) : null;
            failoverRatios[round] = hasFailover ? Ratio(runs[FailoverKey][round].ProxyCpuMicrosPerRequest, llmProxyCpu) : null;
            var yarpCpu = yarpRuns?[round].ProxyCpuMicrosPerRequest;
            memoryRatios[round] = hasMemory ? Ratio(runs[MemoryLimitsKey][round].ProxyCpuMicrosPerRequest, yarpCpu) : null;
            redisRatios[round] = hasRedis ? Ratio(runs[RedisLimitsKey][round].ProxyCpuMicrosPerRequest, yarpCpu) : null;
            redisWithServerRatios[round] = hasRedis ? Ratio(runs[RedisLimitsKey][round].ProxyAndSidecarCpuMicrosPerRequest, yarpCpu) : null;
            Console.WriteLine($"  round {round + 1}/{options.Rounds}  CPU per request, LlmProxy / bare YARP {Format(yarpRatios[round], "0.00")}x, " +
                $"metering on / off {Format(meteringRatios[round], "0.00")}x" +
                (hasMemory ? $", in-memory limits / bare YARP {Format(memoryRatios[round], "0.00")}x" : "") +
                (hasRedis ? $", Redis limits + redis-server / bare YARP {Format(redisWithServerRatios[round], "0.00")}x" : "") +
                (hasBaseline ? $", LlmProxy / baseline build {Format(baselineRatios[round], "0.00")}x" : "") +
                (hasFailover ? $", failover / metering on {Format(failoverRatios[round], "0.00")}x" : ""));
        }

        double? yarpTotal = runs.TryGetValue(YarpKey, out var allYarpRuns) ? CpuPerRequest(allYarpRuns) : null;
        var results = targets.Select(target =>
        {
            var list = runs[target.Key];
            var latency = LoadRunner.NewHistogram();
            foreach (var run in list)
            {
                latency.Add(run.Latency);
            }

            var requests = list.Sum(static r => r.Requests);
            var seconds = list.Sum(static r => r.Elapsed.TotalSeconds);
            var proxyCpu = target.Proxy is null ? (double?)null : CpuPerRequest(list);
            return new LoadResult
            {
                Key = target.Key,
                Target = target.Label,
                Requests = requests,
                Errors = list.Sum(static r => r.Errors),
                WarmupErrors = list.Sum(static r => r.WarmupErrors),
                RequestsPerSecond = requests / seconds,
                P50Ms = Ms(latency, 50),
                P90Ms = Ms(latency, 90),
                P99Ms = Ms(latency, 99),
                MaxMs = latency.GetMaxValue() / 1e6,
                ProxyCpuUsPerRequest = proxyCpu,
                CpuRatioVsYarp = Ratio(proxyCpu, yarpTotal),
                UpstreamCpuUsPerRequest = PerRequest(list, static r => r.UpstreamCpu),
                SidecarCpuUsPerRequest = target.Sidecar is null ? null : PerRequest(list, static r => r.SidecarCpu ?? TimeSpan.Zero),
                ClientCpuUsPerRequest = PerRequest(list, static r => r.ClientCpu),
                RoundRequestsPerSecond = [.. list.Select(static r => r.RequestsPerSecond)],
                RoundProxyCpuUsPerRequest = [.. list.Select(static r => r.ProxyCpuMicrosPerRequest)],
                FirstError = list.Select(static r => r.FirstError).FirstOrDefault(static e => e is not null),
                OtherProcessesCpuShare = list.All(static r => r.OtherCpuShare is not null) ? list.Average(static r => r.OtherCpuShare!.Value) : null,
            };
        }).ToArray();
        var meteringTotal = runs.TryGetValue(MeteringOffKey, out var allOffRuns) ? Ratio(CpuPerRequest(runs[LlmProxyKey]), CpuPerRequest(allOffRuns)) : null;
        var limited = results.SingleOrDefault(static r => r.Key == RedisLimitsKey);
        var unlimited = results.Single(static r => r.Key == LlmProxyKey);
        var baselineTotal = hasBaseline ? Ratio(CpuPerRequest(runs[LlmProxyKey]), CpuPerRequest(runs[BaselineKey])) : null;
        FailoverFacts? failover = null;
        if (results.SingleOrDefault(static r => r.Key == FailoverKey) is { } failing)
        {
            var answered = attempts.GetValueOrDefault("answered");
            failover = new FailoverFacts
            {
                ClientRequests = failing.Requests,
                ClientErrors = failing.Errors + failing.WarmupErrors,
                AttemptsByOutcome = attempts,
                // The gateway counts a first attempt that answered as the request itself (not in llmproxy_attempts): failed
                // attempts per client request (warm-ups included in the attempts, not in the requests: a slight overestimate).
                RetriedShare = failing.Requests > 0 ? (double)(attempts.Values.Sum() - answered) / failing.Requests : null,
                AddedP50Ms = failing.P50Ms - unlimited.P50Ms,
                AddedP90Ms = failing.P90Ms - unlimited.P90Ms,
                AddedP99Ms = failing.P99Ms - unlimited.P99Ms,
                CpuRatioOverMeteringOn = Ratio(failing.ProxyCpuUsPerRequest, unlimited.ProxyCpuUsPerRequest),
                CpuRatioPerRound = failoverRatios,
            };
        }

        var memoryLimited = results.SingleOrDefault(static r => r.Key == MemoryLimitsKey);
        return new LoadPhase(rate, results, unlimited.CpuRatioVsYarp, yarpRatios, meteringTotal, meteringRatios,
            limited?.CpuRatioVsYarp, limited is null ? null : limited.RequestsPerSecond / unlimited.RequestsPerSecond,
            baselineTotal, hasBaseline ? baselineRatios : null, failover)
        {
            MemoryLimitsCpuRatioOverYarp = memoryLimited?.CpuRatioVsYarp,
            MemoryLimitsCpuRatioPerRound = hasMemory ? memoryRatios : [],
            LimitsCpuRatioPerRound = hasRedis ? redisRatios : [],
            LimitsWithRedisCpuRatioOverYarp = hasRedis ? Ratio(PerRequest(runs[RedisLimitsKey], static r => (r.ProxyCpu ?? TimeSpan.Zero) + (r.SidecarCpu ?? TimeSpan.Zero)), yarpTotal) : null,
            LimitsWithRedisCpuRatioPerRound = hasRedis ? redisWithServerRatios : [],
        };
    }

    /// <summary>
    /// "server_error 500, answered 500": a run's counted attempts by outcome, failures first. The gateway counts the
    /// failed attempts and those after them; a first attempt that answered is the request itself and is not counted.
    /// </summary>
    private static string DescribeAttempts(IReadOnlyDictionary<string, long> attempts)
    {
        var parts = attempts.Where(static pair => pair.Value != 0).OrderBy(static pair => pair.Key == "answered").ThenBy(static pair => pair.Key, StringComparer.Ordinal)
            .Select(static pair => $"{pair.Key} {pair.Value}");
        return string.Join(", ", parts.DefaultIfEmpty("none"));
    }

    /// <summary>CPU per request of one proxy over another's; null when either is unknown or the divisor is 0.</summary>
    private static double? Ratio(double? numerator, double? denominator)
        => numerator is double n && denominator is double d and > 0 ? n / d : null;

    private static double CpuPerRequest(List<LoadRun> runs) => PerRequest(runs, static r => r.ProxyCpu ?? TimeSpan.Zero);

    private static double PerRequest(List<LoadRun> runs, Func<LoadRun, TimeSpan> cpu)
    {
        var requests = runs.Sum(static r => r.Requests);
        return requests == 0 ? 0 : runs.Sum(r => cpu(r).TotalMicroseconds) / requests;
    }

    private static StreamResult SummarizeStream(StreamSamples samples)
    {
        var sorted = samples.Milliseconds.Order().ToArray();
        return new StreamResult
        {
            Key = samples.Target.Key,
            Target = samples.Target.Label,
            Samples = sorted.Length,
            Errors = samples.Errors,
            MinMs = sorted.Length == 0 ? 0 : sorted[0],
            MedianMs = Percentile(sorted, 50),
            P90Ms = Percentile(sorted, 90),
            P99Ms = Percentile(sorted, 99),
            MeanMs = sorted.Length == 0 ? 0 : sorted.Average(),
            FirstError = samples.FirstError,
        };
    }

    private static BenchResults BuildResults(DateTime date, MachineFacts machine, SettingsFacts settings, LoadPhase closedLoop, LoadPhase equalLoad,
        StreamResult[] stream)
    {
        var problems = new List<string>();
        foreach (var result in closedLoop.Results.Concat(equalLoad.Results))
        {
            var attempts = result.Requests + result.Errors;
            if (attempts == 0 || (double)result.Errors / attempts > ErrorLimit)
            {
                problems.Add($"{result.Target}: {result.Errors} of {attempts} non-streamed requests failed (limit {ErrorLimit:P0}); first: {result.FirstError}");
            }
        }

        foreach (var phase in new[] { closedLoop, equalLoad })
        {
            if (phase.Failover is { ClientErrors: > 0 } failover)
            {
                problems.Add($"LlmProxy (failover): {failover.ClientErrors} client error(s) (goal 0: the gateway should have answered every request from the other target); " +
                    $"first: {phase.Results.Single(static r => r.Key == FailoverKey).FirstError}");
            }
        }

        foreach (var result in stream)
        {
            var attempts = result.Samples + result.Errors;
            if (attempts == 0 || (double)result.Errors / attempts > ErrorLimit)
            {
                problems.Add($"{result.Target}: {result.Errors} of {attempts} streamed requests failed (limit {ErrorLimit:P0}); first: {result.FirstError}");
            }
        }

        var llmProxyTtft = MedianTtft(stream, LlmProxyKey);
        return new BenchResults
        {
            DateUtc = date.ToString("yyyy-MM-dd HH:mm 'UTC'"),
            Machine = machine,
            Settings = settings,
            ClosedLoop = closedLoop,
            EqualLoad = equalLoad,
            Streaming = stream,
            TtftAddedVsYarpMs = Known(llmProxyTtft - MedianTtft(stream, YarpKey)),
            TtftAddedVsYarpMemoryLimitsMs = Known(MedianTtft(stream, MemoryLimitsKey) - MedianTtft(stream, YarpKey)),
            TtftAddedVsYarpRedisLimitsMs = Known(MedianTtft(stream, RedisLimitsKey) - MedianTtft(stream, YarpKey)),
            TtftAddedVsDirectMs = Known(llmProxyTtft - MedianTtft(stream, DirectKey)),
            Problems = problems,
        };
    }

    private static double MedianTtft(StreamResult[] stream, string key) => stream.FirstOrDefault(r => r.Key == key)?.MedianMs ?? double.NaN;

    /// <summary>Null for a difference with a target that did not stream (NaN).</summary>
    private static double? Known(double value) => double.IsNaN(value) ? null : value;

    private static void PrintHeader(DateTime date, MachineFacts machine, SettingsFacts settings, BenchOptions options, string llmProxyDll, string? baselineDll)
    {
        Console.WriteLine("LlmProxy end-to-end benchmark");
        Console.WriteLine($"date        {date:yyyy-MM-dd HH:mm} UTC");
        Console.WriteLine($"machine     {machine.ProcessorCount} logical processors ({machine.Cpu}), {machine.Os}, {machine.Architecture}");
        Console.WriteLine($"runtime     {machine.Runtime}; driver server GC: {machine.DriverServerGc}");
        Console.WriteLine($"llmproxy    {llmProxyDll}");
        if (baselineDll is not null)
        {
            Console.WriteLine($"baseline    {baselineDll}");
        }

        if (options.SoakRequests > 0)
        {
            Console.WriteLine($"settings    soak: {options.SoakRequests} requests, {settings.Concurrency} concurrent workers (closed loop), " +
                $"LlmProxy ({(options.SoakMode == GatewayMode.RedisLimits ? "Redis" : "in-memory")} limits), a memory sample every {options.SoakSampleEvery}");
        }
        else if (options.OpenStreams > 0)
        {
            Console.WriteLine($"settings    open streams: {options.OpenStreams} at once per proxy, each open {options.OpenStreamsSeconds:0.##} s after its first event " +
                $"(a chunk every {options.OpenStreamsChunkSeconds:0.##} s), LlmProxy (in-memory limits) and bare YARP");
        }
        else
        {
            Console.WriteLine($"settings    non-streaming: {settings.Rounds} interleaved rounds x {settings.Seconds:0.##} s per target " +
                $"(after {settings.WarmupSeconds:0.##} s warm-up), {settings.Concurrency} concurrent workers (closed loop)");
            Console.WriteLine($"            streaming: {settings.StreamSamples} sequential samples per target (after {settings.StreamWarmup} warm-up), interleaved");
        }

        Console.WriteLine($"bodies      request {settings.RequestBytes} B, response {settings.ResponseBytes} B (chat.completion), " +
            $"stream {settings.StreamBytes} B in {Payloads.LaterStreamEvents.Length + 1} events");
        Console.WriteLine("note        client, upstream and proxy share this machine's processors; compare CPU per request, not req/s alone");
    }

    private static void PrintResults(BenchResults results, SettingsFacts settings)
    {
        if (results.ClosedLoop.Results.Count > 0)
        {
            PrintPhase($"Non-streaming chat completions, closed loop ({settings.Rounds} rounds x {settings.Seconds:0.##} s, {settings.Concurrency} workers, aggregated)",
                results.ClosedLoop, goals: false);
        }

        PrintPhase($"Non-streaming chat completions, equal load ({results.EqualLoad.RateRequestsPerSecond:0} req/s for every proxy, " +
            $"{settings.Rounds} rounds x {settings.Seconds:0.##} s, aggregated)", results.EqualLoad, goals: true);
        if (results.Streaming.Count > 0)
        {
            Console.WriteLine();
            Console.WriteLine($"Streaming: time to first event ({settings.StreamSamples} sequential samples per target, interleaved" +
                (results.Streaming.Count(static r => r.Key.StartsWith(LlmProxyKey, StringComparison.Ordinal)) > 1
                    ? $"; the gateway's settings take turns in blocks of {StreamRunner.BlockSamples})" : ")"));
            Console.WriteLine();
            TextTable.Print(
                ["target", "median ms", "p90 ms", "p99 ms", "min ms", "errors"],
                results.Streaming.Select(static r => new[]
                {
                    r.Target,
                    r.MedianMs.ToString("0.000"),
                    r.P90Ms.ToString("0.000"),
                    r.P99Ms.ToString("0.000"),
                    r.MinMs.ToString("0.000"),
                    r.Errors.ToString(),
                }));
            Console.WriteLine();
            // Every LlmProxy setting that streamed, against bare YARP's median; the goal applies to metering on and in-memory limits.
            foreach (var (label, added, goal) in new (string, double?, bool)[]
            {
                ("LlmProxy (metering on)", results.TtftAddedVsYarpMs, true),
                ("LlmProxy (in-memory limits)", results.TtftAddedVsYarpMemoryLimitsMs, true),
                ("LlmProxy (Redis limits)", results.TtftAddedVsYarpRedisLimitsMs, false),
            })
            {
                if (added is { } value)
                {
                    Console.WriteLine($"added to time to first event by {label} vs bare YARP: {Signed(value)} ms" +
                        (goal ? $" (target <= {AddedTtftGoalMs:0.0} ms: {(value <= AddedTtftGoalMs ? "met" : "NOT met")})" : " (no goal)"));
                }
            }

            if (results.TtftAddedVsDirectMs is { } vsDirect)
            {
                Console.WriteLine($"added to time to first event by LlmProxy (metering on) vs direct: {Signed(vsDirect)} ms");
            }
        }

        if (results.Paired is { } paired)
        {
            Console.WriteLine();
            Console.WriteLine($"Paired phase ({paired.MeteringRatioPerRound.Count} rounds, two targets at once, {paired.RateRequestsPerSecond:0} req/s each; geometric means)");
            PrintRatio("Metering CPU per request, on / off (crossover of two gateway processes)", paired.MeteringRatio,
                [.. paired.MeteringRatioPerRound.Select(static r => (double?)r)], MeteringCpuRatioGoal);
            PrintRatio("Process difference, gateway #1 / #2 (same build and settings)", PairedRunner.GeometricMean(paired.ProcessRatioPerRound),
                [.. paired.ProcessRatioPerRound.Select(static r => (double?)r)], goal: null);
            if (paired.BaselineRatio is { } baselineRatio)
            {
                PrintRatio("CPU per request, LlmProxy (metering on) / baseline build", baselineRatio,
                    [.. paired.BaselineRatioPerRound!.Select(static r => (double?)r)], goal: null);
            }
        }
    }

    /// <summary>
    /// One phase's table and ratio lines. The goals are judged at equal load (<paramref name="goals"/>): in a closed loop a
    /// proxy that costs a little more also runs at a lower rate, and a lower rate costs more CPU per request (fewer
    /// requests per wakeup). Issue 13's everything-on ratios (in-memory limits, Redis limits with redis-server's CPU) are
    /// the exception: the issue judges them at saturation, so their verdicts are printed in the closed loop.
    /// </summary>
    private static void PrintPhase(string title, LoadPhase phase, bool goals)
    {
        Console.WriteLine();
        Console.WriteLine(title);
        Console.WriteLine();
        TextTable.Print(
            ["target", "req/s", "p50 ms", "p99 ms", "proxy CPU µs/req", "CPU ratio vs bare YARP", "Redis CPU µs/req", "errors"],
            phase.Results.Select(static r => new[]
            {
                r.Target,
                r.RequestsPerSecond.ToString("0"),
                r.P50Ms.ToString("0.000"),
                r.P99Ms.ToString("0.000"),
                Format(r.ProxyCpuUsPerRequest, "0.0"),
                r.CpuRatioVsYarp is { } ratio ? ratio.ToString("0.00") + "x" : "-",
                Format(r.SidecarCpuUsPerRequest, "0.0"),
                r.Errors.ToString(),
            }));
        Console.WriteLine();
        Console.WriteLine("upstream CPU µs/req (should match across proxies): " +
            string.Join(", ", phase.Results.Select(static r => $"{r.Target} {r.UpstreamCpuUsPerRequest:0.0}")));
        Console.WriteLine("driver (client) CPU µs/req: " +
            string.Join(", ", phase.Results.Select(static r => $"{r.Target} {r.ClientCpuUsPerRequest:0.0}")));
        if (phase.Results.All(static r => r.OtherProcessesCpuShare is not null))
        {
            Console.WriteLine("other processes on the machine (not the bench), share of all processors: " +
                string.Join(", ", phase.Results.Select(static r => $"{r.Target} {r.OtherProcessesCpuShare * 100:0}%")) +
                " (above a few % the numbers are disturbed)");
        }

        if (phase.RateRequestsPerSecond is { } rate)
        {
            foreach (var slow in phase.Results.Where(r => r.RequestsPerSecond < 0.97 * rate))
            {
                Console.WriteLine($"warning: {slow.Target} reached {slow.RequestsPerSecond:0} req/s, below the fixed rate: its CPU per request is not at equal load");
            }
        }

        Console.WriteLine();
        PrintRatio("CPU per request, LlmProxy (metering on) / bare YARP", phase.CpuRatioLlmProxyOverYarp, phase.CpuRatioPerRound, goals ? CpuRatioGoal : null);
        PrintRatio("Metering CPU per request, on / off", phase.MeteringCpuRatioOnOverOff, phase.MeteringCpuRatioPerRound, goals ? MeteringCpuRatioGoal : null);
        if (phase.BaselineCpuRatioPerRound is { } baselineRounds)
        {
            PrintRatio("CPU per request, LlmProxy (metering on) / baseline build", phase.BaselineCpuRatio, baselineRounds, goal: null);
        }

        if (phase.MemoryLimitsCpuRatioOverYarp is not null || phase.LimitsWithRedisCpuRatioOverYarp is not null)
        {
            // Issue 13 (everything on) judges these two at saturation, in the closed loop.
            Console.WriteLine(goals
                ? "Everything on (issue 13 judges these in the closed loop, above; here at equal load, for comparison):"
                : "Everything on (issue 13, judged here: closed loop, at saturation):");
            if (phase.MemoryLimitsCpuRatioOverYarp is not null)
            {
                PrintRatio("CPU per request, LlmProxy (in-memory limits) / bare YARP", phase.MemoryLimitsCpuRatioOverYarp, phase.MemoryLimitsCpuRatioPerRound,
                    goals ? null : MemoryLimitsCpuRatioGoal);
            }

            if (phase.LimitsWithRedisCpuRatioOverYarp is not null)
            {
                PrintRatio("CPU per request, LlmProxy (Redis limits) + redis-server / bare YARP", phase.LimitsWithRedisCpuRatioOverYarp,
                    phase.LimitsWithRedisCpuRatioPerRound, goals ? null : LimitsCpuRatioGoal);
            }
        }

        if (phase.LimitsCpuRatioOverYarp is not null)
        {
            PrintRatio("CPU per request, LlmProxy (Redis limits, proxy only) / bare YARP", phase.LimitsCpuRatioOverYarp, phase.LimitsCpuRatioPerRound,
                goals ? LimitsCpuRatioGoal : null);
        }

        if (phase.RateRequestsPerSecond is null && phase.LimitsThroughputShare is { } share)
        {
            Console.WriteLine($"Throughput, LlmProxy (Redis limits) / LlmProxy (limits off): {share:P0} (target >= {LimitsThroughputGoal:P0}: {(share >= LimitsThroughputGoal ? "met" : "NOT met")})");
        }

        if (phase.Failover is { } failover)
        {
            PrintFailover(phase, failover);
        }
    }

    /// <summary>The failover setting beside the single-target model: client errors, the gateway's retries, added latency and CPU.</summary>
    private static void PrintFailover(LoadPhase phase, FailoverFacts failover)
    {
        var single = phase.Results.Single(static r => r.Key == LlmProxyKey);
        var failing = phase.Results.Single(static r => r.Key == FailoverKey);
        Console.WriteLine();
        Console.WriteLine($"Failover: {Payloads.PublicModel} with two targets of equal weight, one answering 1 request in {Payloads.FailEvery} with 503 " +
            "(LlmProxy (failover)), beside the same model with one target (LlmProxy (metering on)), same rounds");
        Console.WriteLine();
        TextTable.Print(
            ["model", "req/s", "p50 ms", "p90 ms", "p99 ms", "proxy CPU µs/req", "upstream attempts/req", "client errors"],
            new[] { single, failing }.Select(r => new[]
            {
                r.Key == FailoverKey ? "two targets, one failing 20%" : "one target",
                r.RequestsPerSecond.ToString("0"),
                r.P50Ms.ToString("0.000"),
                r.P90Ms.ToString("0.000"),
                r.P99Ms.ToString("0.000"),
                Format(r.ProxyCpuUsPerRequest, "0.0"),
                r.Key == FailoverKey && failover.RetriedShare is { } retried ? (1 + retried).ToString("0.000") : r.Key == FailoverKey ? "-" : "1",
                (r.Errors + r.WarmupErrors).ToString(),
            }));
        Console.WriteLine();
        Console.WriteLine($"client errors with failover: {failover.ClientErrors} in the measured windows and warm-ups ({failover.ClientRequests} requests answered " +
            $"in the measured windows; target 0: {(failover.ClientErrors == 0 ? "met" : "NOT met")})");
        Console.WriteLine($"gateway attempts during the failover runs (/metrics llmproxy_attempts, warm-ups included): {DescribeAttempts(failover.AttemptsByOutcome)}");
        Console.WriteLine($"latency added by failover: p50 {Signed(failover.AddedP50Ms)} ms, p90 {Signed(failover.AddedP90Ms)} ms, p99 {Signed(failover.AddedP99Ms)} ms");
        PrintRatio("CPU per client request, failover / one target", failover.CpuRatioOverMeteringOn, failover.CpuRatioPerRound, goal: null);
    }

    /// <summary>One ratio line: the aggregate, the goal and the spread of the per-round ratios.</summary>
    private static void PrintRatio(string title, double? total, IReadOnlyList<double?> perRound, double? goal)
    {
        var ratios = perRound.Where(static r => r is not null).Select(static r => r!.Value).Order().ToArray();
        var ratioText = total is { } value ? $"{value:0.00}x" : "n/a";
        var verdict = total is { } met ? (met <= goal ? "met" : "NOT met") : "n/a";
        var goalText = goal is { } target ? $" (target <= {target:0.0#}x: {verdict})" : "";
        Console.WriteLine($"{title}: {ratioText}{goalText}" +
            (ratios.Length > 1 ? $"; per round {ratios[0]:0.00}x to {ratios[^1]:0.00}x, median {Percentile(ratios, 50):0.00}x" : "") +
            (ratios.Length > 2 ? $", mean of rounds {ratios.Average():0.000}x ± {Interval95(ratios):0.000} (95%)" : ""));
    }

    /// <summary>
    /// Half-width of a 95% confidence interval for the mean of the per-round ratios (Student's t), treating rounds as
    /// independent samples: how far the mean could be from the true ratio given this run's round-to-round noise.
    /// </summary>
    private static double Interval95(double[] values)
    {
        var mean = values.Average();
        var variance = values.Sum(v => (v - mean) * (v - mean)) / (values.Length - 1);
        return StudentT95(values.Length - 1) * Math.Sqrt(variance / values.Length);
    }

    // Two-sided 95% quantiles of Student's t; beyond 20 degrees of freedom the value at the lowest degrees of each
    // range (so an interval is never narrower than it should be).
    private static double StudentT95(int degrees) => degrees switch
    {
        1 => 12.706, 2 => 4.303, 3 => 3.182, 4 => 2.776, 5 => 2.571, 6 => 2.447, 7 => 2.365, 8 => 2.306, 9 => 2.262, 10 => 2.228,
        11 => 2.201, 12 => 2.179, 13 => 2.160, 14 => 2.145, 15 => 2.131, 16 => 2.120, 17 => 2.110, 18 => 2.101, 19 => 2.093, 20 => 2.086,
        <= 25 => 2.080, <= 30 => 2.056, <= 40 => 2.040, <= 60 => 2.020, <= 120 => 2.000, _ => 1.980,
    };

    private static async Task CheckOnceAsync(HttpClient client, Target target, CancellationToken cancellationToken)
    {
        using var request = target.CreateRequest(Payloads.ChatRequest);
        HttpResponseMessage response;
        try
        {
            response = await client.SendAsync(request, cancellationToken);
        }
        catch (HttpRequestException ex)
        {
            throw new BenchFailure($"{target.Label} ({target.ChatUri}) could not be reached: {ex.Message}", ex);
        }

        using (response)
        {
            var body = await response.Content.ReadAsByteArrayAsync(cancellationToken);
            if (response.StatusCode != HttpStatusCode.OK || body.Length != Payloads.ChatCompletion.Length)
            {
                throw new BenchFailure($"{target.Label} ({target.ChatUri}) answered HTTP {(int)response.StatusCode} with {body.Length} bytes: " +
                    Encoding.UTF8.GetString(body.AsSpan(0, Math.Min(body.Length, 500))));
            }
        }
    }

    private static async Task WaitReadyAsync(ChildProcess child, Uri url, CancellationToken cancellationToken)
    {
        using var probe = new HttpClient(new SocketsHttpHandler { UseProxy = false }) { Timeout = TimeSpan.FromSeconds(2) };
        var started = Stopwatch.GetTimestamp();
        while (true)
        {
            if (child.HasExited)
            {
                throw new BenchFailure($"{child.Name} exited with code {child.ExitCode} before it was ready. Its output:\n{child.RecentOutput}");
            }

            try
            {
                using var response = await probe.GetAsync(url, cancellationToken);
                if (response.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // not listening yet
            }
            catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                // probe timeout
            }

            if (Stopwatch.GetElapsedTime(started) > StartupTimeout)
            {
                throw new BenchFailure($"{child.Name} did not answer {url} within {StartupTimeout.TotalSeconds} s. Its output:\n{child.RecentOutput}");
            }

            await Task.Delay(100, cancellationToken);
        }
    }

    private static HttpClient CreateClient(int concurrency)
    {
        var handler = new SocketsHttpHandler
        {
            UseProxy = false,
            UseCookies = false,
            AllowAutoRedirect = false,
            AutomaticDecompression = DecompressionMethods.None,
            MaxConnectionsPerServer = concurrency,
            PooledConnectionLifetime = Timeout.InfiniteTimeSpan,
            PooledConnectionIdleTimeout = TimeSpan.FromMinutes(10),
            ConnectTimeout = TimeSpan.FromSeconds(5),
        };
        return new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(30) };
    }

    // The provider has a credential, as a real one does: the gateway sends it and redacts it from every answer.
    private const string ProviderKeyVariable = "LLMPROXY_BENCH_PROVIDER_KEY";
    private const string ProviderKey = "sk-bench-provider-0123456789abcdef";

    /// <summary>
    /// The gateway's route config in one of its modes. The target has its own price, so metering computes a cost, and
    /// the key has a team, which is a metric label. In <see cref="GatewayMode.RedisLimits"/> the key and the model each
    /// get a request and a token limit far above what the bench sends (every request is admitted: the cost of deciding
    /// is measured, not refusals), kept in the bench's redis-server; <see cref="GatewayMode.MemoryLimits"/> is the same
    /// without <c>redis</c> (the gateway keeps them in memory) and another request limit (<see cref="GatewayLimits"/>). In <see cref="GatewayMode.Failover"/> the model has a
    /// second target of equal weight on the fake upstream's failing variant (<see cref="Payloads.FailingPrefix"/>).
    /// </summary>
    private static string LlmProxyConfig(int upstreamPort, int redisPort, GatewayMode mode, bool slowModel = false)
    {
        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(BenchKey)));
        var limits = mode is GatewayMode.RedisLimits or GatewayMode.MemoryLimits
            ? $$""", "limits": { "requests_per_minute": {{GatewayLimits.RequestsPerMinute(mode)}}, "tokens_per_minute": {{GatewayLimits.TokensPerMinute}} }"""
            : "";
        var redis = mode == GatewayMode.RedisLimits ? $$""", "redis": { "connection": "127.0.0.1:{{redisPort}}" }""" : "";
        const string Pricing = """{ "input_per_1m": 0.15, "output_per_1m": 0.6, "cached_input_per_1m": 0.075 }""";
        var failover = mode == GatewayMode.Failover;

        // Failover: a second provider, the fake upstream's failing variant, and a second target of equal weight on it
        // (the model's default retry budget, 3 attempts); the alias only tells this setting apart (GatewayModeSwitch).
        var failingProvider = failover
            ? $$""", "{{FailingProviderName}}": { "type": "openai-compatible", "base_url": "http://127.0.0.1:{{upstreamPort}}{{Payloads.FailingPrefix}}/v1", "api_key": "env:{{ProviderKeyVariable}}" }"""
            : "";
        var weight = failover ? """, "weight": 1""" : "";
        var failingTarget = failover
            ? $$""", { "provider": "{{FailingProviderName}}", "model": "{{Payloads.UpstreamModel}}", "weight": 1, "pricing": {{Pricing}} }"""
            : "";
        var aliases = failover ? $$""", "aliases": [ "{{Payloads.FailoverAlias}}" ]""" : "";

        // Open-streams mode: one more provider, the fake upstream's slow variant, and a model on it with the same limits.
        var slowProvider = slowModel
            ? $$""", "{{SlowProviderName}}": { "type": "openai-compatible", "base_url": "http://127.0.0.1:{{upstreamPort}}{{Payloads.SlowPrefix}}/v1", "api_key": "env:{{ProviderKeyVariable}}" }"""
            : "";
        var slow = slowModel
            ? $$""", "{{Payloads.SlowModel}}": { "targets": [ { "provider": "{{SlowProviderName}}", "model": "{{Payloads.UpstreamModel}}", "pricing": {{Pricing}} } ]{{limits}} }"""
            : "";
        return $$"""
            {
              "providers": { "up": { "type": "openai-compatible", "base_url": "http://127.0.0.1:{{upstreamPort}}/v1", "api_key": "env:{{ProviderKeyVariable}}" }{{failingProvider}}{{slowProvider}} },
              "models": {
                "{{Payloads.PublicModel}}": {
                  "targets": [ {
                    "provider": "up", "model": "{{Payloads.UpstreamModel}}"{{weight}},
                    "pricing": {{Pricing}}
                  }{{failingTarget}} ]{{aliases}}{{limits}}
                }{{slow}}
              },
              "keys": [ { "id": "bench", "team": "bench", "hash": "sha256:{{hash}}", "models": [ "*" ]{{limits}} } ],
              "telemetry": { "metering": {{(mode == GatewayMode.MeteringOff ? "false" : "true")}} }{{redis}}
            }
            """;
    }

    /// <summary>Starts redis-server (from apt) without persistence on a loopback port and waits until it answers.</summary>
    private static async Task<ChildProcess> StartRedisAsync(int port, Dictionary<string, string?> environment, CancellationToken cancellationToken)
    {
        // Under --pin the child is taskset, which starts even when redis-server is missing: look for it first.
        if (!(Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Any(static dir => dir.Length > 0 && File.Exists(Path.Combine(dir, "redis-server"))))
        {
            throw new BenchFailure("redis-server is not installed (apt-get install redis-server; ./test.sh installs it)");
        }

        ChildProcess redis;
        try
        {
            redis = ChildProcess.Start("redis-server", "redis-server",
                ["--port", Invariant(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], environment);
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            throw new BenchFailure("redis-server is not installed (apt-get install redis-server; ./test.sh installs it)", ex);
        }

        var started = Stopwatch.GetTimestamp();
        while (true)
        {
            try
            {
                using var socket = new TcpClient();
                await socket.ConnectAsync(IPAddress.Loopback, port, cancellationToken);
                return redis;
            }
            catch (SocketException) when (Stopwatch.GetElapsedTime(started) < StartupTimeout && !redis.HasExited)
            {
                await Task.Delay(50, cancellationToken);
            }
        }
    }

    private static string ResolveLlmProxyDll(string? configured)
    {
        if (configured is not null)
        {
            var full = Path.GetFullPath(configured);
            return File.Exists(full) ? full : throw new BenchFailure($"{full} does not exist");
        }

        // The repository's Release build, found by walking up from this binary.
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "src", "LlmProxy", "LlmProxy.csproj")))
            {
                var dll = Path.Combine(directory.FullName, "src", "LlmProxy", "bin", "Release", "net10.0", "LlmProxy.dll");
                return File.Exists(dll)
                    ? dll
                    : throw new BenchFailure($"{dll} does not exist: build it first (dotnet build -c Release src/LlmProxy), or use bench/run.sh");
            }
        }

        throw new BenchFailure("could not find the repository's src/LlmProxy; pass --llmproxy PATH/LlmProxy.dll");
    }

    private static string DotnetHost()
    {
        var current = Environment.ProcessPath;
        if (current is not null && Path.GetFileNameWithoutExtension(current) == "dotnet")
        {
            return current;
        }

        var hostPath = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH");
        return hostPath is not null && File.Exists(hostPath) ? hostPath : "dotnet";
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static MachineFacts DescribeMachine()
    {
        var cpu = "unknown CPU";
        try
        {
            var line = File.ReadLines("/proc/cpuinfo").FirstOrDefault(static l => l.StartsWith("model name", StringComparison.Ordinal));
            if (line is not null)
            {
                cpu = line[(line.IndexOf(':', StringComparison.Ordinal) + 1)..].Trim();
            }
        }
        catch (IOException)
        {
            // not Linux
        }
        catch (UnauthorizedAccessException)
        {
            // not readable
        }

        return new MachineFacts(Environment.ProcessorCount, cpu, RuntimeInformation.OSDescription,
            RuntimeInformation.ProcessArchitecture.ToString(), RuntimeInformation.FrameworkDescription, GCSettings.IsServerGC);
    }

    private static double Ms(LongHistogram histogram, double percentile)
        => histogram.TotalCount == 0 ? 0 : histogram.GetValueAtPercentile(percentile) / 1e6;

    private static double Percentile(double[] sorted, double percentile)
    {
        if (sorted.Length == 0)
        {
            return 0;
        }

        var rank = (int)Math.Ceiling(percentile / 100 * sorted.Length);
        return sorted[Math.Clamp(rank - 1, 0, sorted.Length - 1)];
    }

    private static string Format(double? value, string format) => value is { } v ? v.ToString(format) : "-";

    private static string Signed(double value) => (value >= 0 ? "+" : "") + value.ToString("0.000");

    private static string Invariant(int value) => value.ToString(System.Globalization.CultureInfo.InvariantCulture);

    private static string Invariant(double value) => value.ToString(System.Globalization.CultureInfo.InvariantCulture);
}
