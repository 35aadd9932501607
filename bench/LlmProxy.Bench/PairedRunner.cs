namespace LlmProxy.Bench;

/// <summary>
/// The paired phase: two targets are measured <em>at the same time</em>, each at the same fixed rate, so whatever
/// the machine does during a run (scheduling, the kernel's network work, other processes) falls on both, and their
/// CPU-per-request ratio is not disturbed by it. The rounds runs at equal load showed that this noise, not the
/// code, makes one 5 s run differ from the next by up to ±10%.
/// <list type="bullet">
/// <item>Metering: two gateway processes of the same build in crossover. Part 1 runs #1 with metering on beside #2
/// with metering off, part 2 the other way round. r1 = #1 on / #2 off and r2 = #2 on / #1 off each contain the
/// difference between the processes once, in opposite directions, so √(r1·r2) is metering on / off without it
/// and √(r1/r2) is that process difference (reported: it shows what a comparison of two processes is worth).</item>
/// <item>Baseline build (with <c>--baseline</c>): part 3 runs #1 beside the baseline and part 4 #2 beside it, all
/// with metering on; the ratio of a round is √(#1/baseline · #2/baseline). A build's process cannot be swapped,
/// so the process difference above is the limit of what this ratio can resolve.</item>
/// </list>
/// The parts rotate from round to round so none always runs first.
/// </summary>
internal static class PairedRunner
{
    public static async Task<PairedPhase> RunAsync(HttpClient client, ChildProcess upstream, IReadOnlyList<ChildProcess> servers, BenchOptions options,
        double rate, Target first, GatewayModeSwitch firstModes, Target second, GatewayModeSwitch secondModes, Target? baseline,
        CancellationToken cancellationToken)
    {
        var warmup = TimeSpan.FromSeconds(options.WarmupSeconds);
        var duration = TimeSpan.FromSeconds(options.Seconds);
        Console.WriteLine($"Paired (two targets at once, {rate:0} req/s each): {options.PairedRounds} rounds, {options.Seconds:0.##} s per part " +
            $"after {options.WarmupSeconds:0.##} s warm-up");
        var metering = new List<double>();
        var processes = new List<double>();
        var baselineRatios = baseline is null ? null : new List<double>();
        var parts = baseline is null ? 2 : 4;
        for (var round = 0; round < options.PairedRounds; round++)
        {
            double r1 = 0, r2 = 0, b1 = 0, b2 = 0;
            for (var i = 0; i < parts; i++)
            {
                var part = (round + i) % parts;
                switch (part)
                {
                    case 0:
                        r1 = await PairAsync(first, firstModes, GatewayMode.MeteringOn, second, secondModes, GatewayMode.MeteringOff);
                        break;
                    case 1:
                        r2 = await PairAsync(second, secondModes, GatewayMode.MeteringOn, first, firstModes, GatewayMode.MeteringOff);
                        break;
                    case 2:
                        b1 = await PairAsync(first, firstModes, GatewayMode.MeteringOn, baseline!, null, GatewayMode.MeteringOn);
                        break;
                    default:
                        b2 = await PairAsync(second, secondModes, GatewayMode.MeteringOn, baseline!, null, GatewayMode.MeteringOn);
                        break;
                }
            }

            metering.Add(Math.Sqrt(r1 * r2));
            processes.Add(Math.Sqrt(r1 / r2));
            baselineRatios?.Add(Math.Sqrt(b1 * b2));
            Console.WriteLine($"  round {round + 1}/{options.PairedRounds}  metering on / off {metering[^1]:0.000}x, gateway #1 / #2 {processes[^1]:0.000}x" +
                (baselineRatios is null ? "" : $", LlmProxy / baseline build {baselineRatios[^1]:0.000}x"));
        }

        return new PairedPhase(rate, metering, processes, baselineRatios);

        // Runs a and b at once and returns a's CPU per request over b's.
        async Task<double> PairAsync(Target a, GatewayModeSwitch? aModes, GatewayMode aMode, Target b, GatewayModeSwitch? bModes, GatewayMode bMode)
        {
            if (aModes is not null)
            {
                await aModes.SetAsync(aMode, cancellationToken);
            }

            if (bModes is not null)
            {
                await bModes.SetAsync(bMode, cancellationToken);
            }

            var runs = await Task.WhenAll(
                LoadRunner.RunAsync(client, a, upstream, servers, options.Concurrency, warmup, duration, cancellationToken, rate),
                LoadRunner.RunAsync(client, b, upstream, servers, options.Concurrency, warmup, duration, cancellationToken, rate));
            foreach (var (target, run) in new[] { (a, runs[0]), (b, runs[1]) })
            {
                var attempts = run.Requests + run.Errors;
                if (attempts == 0 || (double)run.Errors / attempts > 0.01 || run.RequestsPerSecond < 0.97 * rate)
                {
                    throw new BenchFailure($"paired run: {target.Label} completed {run.Requests} requests with {run.Errors} errors " +
                        $"({run.RequestsPerSecond:0} req/s of {rate:0}); first error: {run.FirstError}");
                }
            }

            return runs[0].ProxyCpuMicrosPerRequest!.Value / runs[1].ProxyCpuMicrosPerRequest!.Value;
        }
    }

    public static double GeometricMean(IReadOnlyList<double> values) => Math.Exp(values.Average(Math.Log));
}
