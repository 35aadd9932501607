namespace LlmProxy.Bench;

/// <summary>What the paired phase measured (see <see cref="PairedRunner"/>).</summary>
/// <param name="RateRequestsPerSecond">The fixed rate of each of the two simultaneous targets.</param>
/// <param name="MeteringRatioPerRound">Metering on / off per round, with the difference between the two processes cancelled.</param>
/// <param name="ProcessRatioPerRound">Gateway #1 / gateway #2 per round (same build, same settings): process-to-process difference.</param>
/// <param name="BaselineRatioPerRound">With a baseline build: gateway #1 and #2 (metering on), each over the baseline run beside it.</param>
internal sealed record PairedPhase(double RateRequestsPerSecond, IReadOnlyList<double> MeteringRatioPerRound, IReadOnlyList<double> ProcessRatioPerRound,
    IReadOnlyList<double>? BaselineRatioPerRound)
{
    /// <summary>Geometric mean of <see cref="MeteringRatioPerRound"/>.</summary>
    public double MeteringRatio => PairedRunner.GeometricMean(MeteringRatioPerRound);

    /// <summary>Geometric mean of <see cref="BaselineRatioPerRound"/>.</summary>
    public double? BaselineRatio => BaselineRatioPerRound is { Count: > 0 } ratios ? PairedRunner.GeometricMean(ratios) : null;
}
