using System.Globalization;

namespace LlmProxy.Bench;

/// <summary>Command-line settings of every mode.</summary>
internal sealed class BenchOptions
{
    public const string Usage = """
        Usage:
          LlmProxy.Bench run [--seconds S] [--warmup S] [--rounds N] [--concurrency C] [--stream-samples N]
                             [--stream-warmup N] [--rate R] [--skip-limits true] [--llmproxy PATH/LlmProxy.dll]
                             [--baseline PATH/LlmProxy.dll] [--pin true] [--no-spin true] [--paired-rounds N]
                             [--targets KEY,KEY,...] [--equal-load-only true --rate R] [--json PATH]
          LlmProxy.Bench run --soak-requests N [--soak-sample-every N] [--soak-warmup N] [--soak-mode memory|redis]
                             [--concurrency C] [--pin true] [--json PATH]
          LlmProxy.Bench run --open-streams N [--open-streams-seconds S] [--open-streams-chunk-seconds S] [--json PATH]
          LlmProxy.Bench upstream --port N [--open-streams-seconds S] [--open-streams-chunk-seconds S]
          LlmProxy.Bench yarp --port N --upstream URL

        run (defaults): 5 rounds of 5 s per target after 1 s warm-up, 32 concurrent workers,
        then the same rounds at one fixed rate for every proxy (default: 75% of the slowest proxy's
        closed-loop req/s), 2000 streamed samples per target after 200 warm-up samples.
        Targets (--targets): direct, yarp, llmproxy (always), llmproxy_metering_off, llmproxy_memory_limits,
        llmproxy_redis_limits, llmproxy_failover (two targets, one failing 1 request in 5 with 503), llmproxy_baseline (with --baseline).
        run --soak-requests N: instead, N requests closed-loop through the gateway with in-memory (or Redis) limits, and
        every 250000 its RSS and GC heap after a forced full collection. run --open-streams N: instead, N slow streams
        open at once through the gateway and through bare YARP, and the memory each open stream costs.
        """;

    /// <summary>Measured seconds of each closed-loop run.</summary>
    public double Seconds { get; private set; } = 5;

    /// <summary>Unrecorded seconds before each run is measured.</summary>
    public double WarmupSeconds { get; private set; } = 1;

    /// <summary>Interleaved rounds; each round runs every target once.</summary>
    public int Rounds { get; private set; } = 5;

    /// <summary>Concurrent closed-loop workers.</summary>
    public int Concurrency { get; private set; } = 32;

    /// <summary>Fixed request rate of the equal-load rounds (req/s); 0 picks 75% of the slowest proxy's closed-loop rate.</summary>
    public double Rate { get; private set; }

    /// <summary>Leaves out direct, the in-memory-limits, Redis-limits and failover settings (for long metering on/off comparisons).</summary>
    public bool SkipLimits { get; private set; }

    /// <summary>Sequential streamed requests per target whose time to first event is recorded.</summary>
    public int StreamSamples { get; private set; } = 2000;

    /// <summary>Streamed requests per target sent before recording.</summary>
    public int StreamWarmup { get; private set; } = 200;

    /// <summary>Path of LlmProxy.dll (default: the repository's Release build).</summary>
    public string? LlmProxyDll { get; private set; }

    /// <summary>Path of a second LlmProxy.dll (another build) measured beside the first, with metering on; null for none.</summary>
    public string? BaselineDll { get; private set; }

    /// <summary>Pins the proxies to the last processor and the driver, upstream and Redis to the others.</summary>
    public bool Pin { get; private set; }

    /// <summary>Runs every server with <c>DOTNET_ThreadPool_UnfairSemaphoreSpinLimit=0</c> (no spin-waiting of idle workers).</summary>
    public bool NoSpin { get; private set; }

    /// <summary>Rounds of the paired phase (two targets measured at once; see PairedRunner); 0 leaves it out.</summary>
    public int PairedRounds { get; private set; }

    /// <summary>Keys of the targets to measure (direct, yarp, llmproxy, llmproxy_metering_off, llmproxy_memory_limits, llmproxy_redis_limits, llmproxy_failover, llmproxy_baseline); null for all.</summary>
    public IReadOnlySet<string>? Targets { get; private set; }

    /// <summary>Runs only the equal-load rounds (no closed loop, no streaming) at <see cref="Rate"/>: long on/off comparisons.</summary>
    public bool EqualLoadOnly { get; private set; }

    /// <summary>Where to write the results as JSON.</summary>
    public string? JsonPath { get; private set; }

    /// <summary>Soak mode (<c>--soak-requests</c>): requests sent closed-loop through the gateway instead of the normal phases; 0 for none.</summary>
    public long SoakRequests { get; private set; }

    /// <summary>Soak mode: requests between two memory samples.</summary>
    public long SoakSampleEvery { get; private set; } = 250_000;

    /// <summary>Soak mode: the sample at this many requests (the first at or after it) is the baseline of the growth.</summary>
    public long SoakWarmup { get; private set; } = 500_000;

    /// <summary>Soak mode: the gateway's setting, <see cref="GatewayMode.MemoryLimits"/> (<c>memory</c>) or <see cref="GatewayMode.RedisLimits"/> (<c>redis</c>).</summary>
    public GatewayMode SoakMode { get; private set; } = GatewayMode.MemoryLimits;

    /// <summary>Open-streams mode (<c>--open-streams</c>): slow streams held open at once through each proxy; 0 for none.</summary>
    public int OpenStreams { get; private set; }

    /// <summary>How long the fake upstream's slow variant keeps a stream going after its first event, in seconds.</summary>
    public double OpenStreamsSeconds { get; private set; } = 60;

    /// <summary>Seconds between two chunks of a slow stream.</summary>
    public double OpenStreamsChunkSeconds { get; private set; } = 5;

    /// <summary>Port of the upstream and yarp modes.</summary>
    public int Port { get; private set; }

    /// <summary>Upstream URL of the yarp mode.</summary>
    public string? Upstream { get; private set; }

    /// <summary>The targets' JSON keys, as <c>--targets</c> takes them.</summary>
    public static readonly string[] TargetKeys = ["direct", "yarp", "llmproxy", "llmproxy_metering_off", "llmproxy_memory_limits", "llmproxy_redis_limits", "llmproxy_failover", "llmproxy_baseline"];

    /// <summary>Parses <c>--name value</c> pairs after the mode; throws <see cref="ArgumentException"/> on bad input.</summary>
    public static BenchOptions Parse(IReadOnlyList<string> args)
    {
        var options = new BenchOptions();
        for (var i = 0; i < args.Count; i++)
        {
            var name = args[i];
            if (i + 1 >= args.Count)
            {
                throw new ArgumentException($"{name} needs a value");
            }

            var value = args[++i];
            switch (name)
            {
                case "--seconds":
                    options.Seconds = PositiveDouble(name, value);
                    break;
                case "--warmup":
                    options.WarmupSeconds = NonNegativeDouble(name, value);
                    break;
                case "--rounds":
                    options.Rounds = PositiveInt(name, value);
                    break;
                case "--concurrency":
                    options.Concurrency = PositiveInt(name, value);
                    break;
                case "--stream-samples":
                    options.StreamSamples = PositiveInt(name, value);
                    break;
                case "--stream-warmup":
                    options.StreamWarmup = (int)NonNegativeDouble(name, value);
                    break;
                case "--rate":
                    options.Rate = NonNegativeDouble(name, value);
                    break;
                case "--skip-limits":
                    options.SkipLimits = value == "true";
                    break;
                case "--llmproxy":
                    options.LlmProxyDll = value;
                    break;
                case "--baseline":
                    options.BaselineDll = value;
                    break;
                case "--pin":
                    options.Pin = value == "true";
                    break;
                case "--no-spin":
                    options.NoSpin = value == "true";
                    break;
                case "--paired-rounds":
                    options.PairedRounds = (int)NonNegativeDouble(name, value);
                    break;
                case "--targets":
                    options.Targets = value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToHashSet();
                    if (options.Targets.FirstOrDefault(static key => !TargetKeys.Contains(key)) is { } unknown)
                    {
                        throw new ArgumentException($"--targets: unknown target '{unknown}' (known: {string.Join(", ", TargetKeys)})");
                    }

                    break;
                case "--equal-load-only":
                    options.EqualLoadOnly = value == "true";
                    break;
                case "--json":
                    options.JsonPath = value;
                    break;
                case "--soak-requests":
                    options.SoakRequests = PositiveLong(name, value);
                    break;
                case "--soak-sample-every":
                    options.SoakSampleEvery = PositiveLong(name, value);
                    break;
                case "--soak-warmup":
                    options.SoakWarmup = (long)NonNegativeDouble(name, value);
                    break;
                case "--soak-mode":
                    options.SoakMode = value switch
                    {
                        "memory" => GatewayMode.MemoryLimits,
                        "redis" => GatewayMode.RedisLimits,
                        _ => throw new ArgumentException($"--soak-mode must be memory or redis, not '{value}'"),
                    };
                    break;
                case "--open-streams":
                    options.OpenStreams = PositiveInt(name, value);
                    break;
                case "--open-streams-seconds":
                    options.OpenStreamsSeconds = PositiveDouble(name, value);
                    break;
                case "--open-streams-chunk-seconds":
                    options.OpenStreamsChunkSeconds = PositiveDouble(name, value);
                    break;
                case "--port":
                    options.Port = PositiveInt(name, value);
                    break;
                case "--upstream":
                    options.Upstream = value;
                    break;
                default:
                    throw new ArgumentException($"unknown option {name}");
            }
        }

        if (options.EqualLoadOnly && options.Rate <= 0)
        {
            throw new ArgumentException("--equal-load-only needs --rate");
        }

        if (options.SoakRequests > 0 && options.OpenStreams > 0)
        {
            throw new ArgumentException("--soak-requests and --open-streams are separate runs: give one of them");
        }

        if ((options.SoakRequests > 0 || options.OpenStreams > 0) && (options.EqualLoadOnly || options.PairedRounds > 0 || options.BaselineDll is not null))
        {
            throw new ArgumentException("--soak-requests and --open-streams run on their own: no --equal-load-only, --paired-rounds or --baseline");
        }

        if (options.SoakRequests > 0 && options.SoakWarmup >= options.SoakRequests)
        {
            throw new ArgumentException($"--soak-warmup ({options.SoakWarmup}) must be below --soak-requests ({options.SoakRequests}): " +
                "the growth is measured from the sample at the warm-up to the last one");
        }

        // The gateway ends a request at its deadline (900 s by default), and its idle timeout is 600 s between chunks.
        if (options.OpenStreamsSeconds > 800 || options.OpenStreamsChunkSeconds > 300 || options.OpenStreamsChunkSeconds > options.OpenStreamsSeconds)
        {
            throw new ArgumentException("--open-streams-seconds must be at most 800 and --open-streams-chunk-seconds at most 300 and at most the stream's seconds " +
                "(the gateway's default deadline is 900 s, its idle timeout 600 s)");
        }

        return options;
    }

    private static double PositiveDouble(string name, string value)
    {
        var number = NonNegativeDouble(name, value);
        return number > 0 ? number : throw new ArgumentException($"{name} must be greater than 0");
    }

    private static double NonNegativeDouble(string name, string value)
        => double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var number) && number >= 0 && double.IsFinite(number)
            ? number
            : throw new ArgumentException($"{name} must be a non-negative number, not '{value}'");

    private static long PositiveLong(string name, string value)
        => long.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var number) && number > 0
            ? number
            : throw new ArgumentException($"{name} must be a positive integer, not '{value}'");

    private static int PositiveInt(string name, string value)
        => int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var number) && number > 0
            ? number
            : throw new ArgumentException($"{name} must be a positive integer, not '{value}'");
}
