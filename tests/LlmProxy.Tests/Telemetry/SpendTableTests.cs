using LlmProxy.Telemetry;
using LlmProxy.Usage;

namespace LlmProxy.Tests.Telemetry;

public sealed class SpendTableTests
{
    [Fact]
    public void ObserveTokens_ExactAndEstimatedUsage_SeparateSeriesByTypeAndEstimate()
    {
        var table = new SpendTable();
        table.Add("m", "k1", "t", new TokenUsage(10, 5, 0, 0, Estimated: false), costNanoUsd: 100);
        table.Add("m", "k1", "t", new TokenUsage(7, 3, 4, 2, Estimated: false), costNanoUsd: 50);
        table.Add("m", "k1", "t", new TokenUsage(1, 1, 0, 0, Estimated: true), costNanoUsd: 10);

        var tokens = table.ObserveTokens()
            .Select(m => (Type: Tag(m.Tags, "gen_ai.token.type"), Estimated: (bool)Tag(m.Tags, "llmproxy.usage.estimated")!, m.Value))
            .OrderBy(t => t.Estimated).ThenBy(t => t.Type)
            .ToArray();

        Assert.Equal(
            [("cached_input", false, 4L), ("input", false, 17L), ("output", false, 8L), ("reasoning", false, 2L), ("input", true, 1L), ("output", true, 1L)],
            tokens.Select(t => ((string)t.Type!, t.Estimated, t.Value)).ToArray());
    }

    [Fact]
    public void ObserveCost_ExactAndEstimatedUsage_OneSeriesPerKeyInUsd()
    {
        var table = new SpendTable();
        table.Add("m", "k1", "t", new TokenUsage(10, 5, 0, 0, Estimated: false), costNanoUsd: 1_500_000_000);
        table.Add("m", "k1", "t", new TokenUsage(1, 1, 0, 0, Estimated: true), costNanoUsd: 500_000_000);
        table.Add("m", "k2", "t", new TokenUsage(1, 1, 0, 0, Estimated: false), costNanoUsd: 250_000_000);

        var cost = table.ObserveCost().ToDictionary(m => (string)Tag(m.Tags, "llmproxy.key.id")!, m => m.Value);

        Assert.Equal(2, cost.Count);
        Assert.Equal(2.0, cost["k1"], 9);
        Assert.Equal(0.25, cost["k2"], 9);
    }

    [Fact]
    public void ObserveCost_PriceUnknown_NoCostSeries()
    {
        var table = new SpendTable();
        table.Add("m", "k1", "t", new TokenUsage(10, 5, 0, 0, Estimated: false), costNanoUsd: null);

        Assert.Empty(table.ObserveCost());
        Assert.Equal(2, table.ObserveTokens().Count());
    }

    private static object? Tag(ReadOnlySpan<KeyValuePair<string, object?>> tags, string name)
    {
        foreach (var tag in tags)
        {
            if (tag.Key == name)
            {
                return tag.Value;
            }
        }

        return null;
    }
}
