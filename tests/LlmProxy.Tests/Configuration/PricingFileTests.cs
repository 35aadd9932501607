using System.Text.Json;
using System.Text.Json.Nodes;
using Json.Schema;
using LlmProxy.Configuration;
using LlmProxy.Usage;

namespace LlmProxy.Tests.Configuration;

public sealed class PricingFileTests
{
    private static string RepoFile(string relative)
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "LlmProxy.sln")))
            {
                return Path.Combine(directory.FullName, relative);
            }
        }

        throw new InvalidOperationException("LlmProxy.sln not found");
    }

    [Fact]
    public void RepositoryPricing_ParsesValidatesAndMatchesItsSchema()
    {
        var text = File.ReadAllText(RepoFile("config/pricing.json"));

        var pricing = ConfigFile.ParsePricing(text, out var error);
        var errors = new List<string>();
        ConfigValidator.ValidatePricing(pricing!, errors);
        var schema = JsonSchema.FromText(File.ReadAllText(RepoFile("config/pricing.schema.json")));
        var node = JsonNode.Parse(text, documentOptions: new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip });
        var result = schema.Evaluate(JsonSerializer.SerializeToElement(node));

        Assert.Null(error);
        Assert.Empty(errors);
        Assert.True(result.IsValid);
        Assert.Equal(0.15m, pricing!.Models["gpt-4o-mini"].InputPer1M);
    }

    [Fact]
    public void Build_PricingTable_TargetOverrideThenProviderModelThenModel()
    {
        var config = SnapshotBuilderTests.Parse("""
            {
              "providers": { "a": { "type": "openai-compatible", "base_url": "http://a/v1" }, "b": { "type": "openai-compatible", "base_url": "http://b/v1" } },
              "models": {
                "own": { "targets": [ { "provider": "a", "model": "x", "pricing": { "input_per_1m": 9, "output_per_1m": 9 } } ] },
                "specific": { "targets": [ { "provider": "b", "model": "x" } ] },
                "generic": { "targets": [ { "provider": "a", "model": "x" } ] },
                "none": { "targets": [ { "provider": "a", "model": "y" } ] }
              },
              "auth": { "mode": "none" }
            }
            """);
        var pricing = ConfigFile.ParsePricing("""{ "models": { "b/x": { "input_per_1m": 2, "output_per_1m": 2 }, "x": { "input_per_1m": 1, "output_per_1m": 1 } } }""", out _);

        var snapshot = SnapshotBuilderTests.Builder().Build(config, 1, pricing).Snapshot!;

        Assert.Equal(9, snapshot.Models["own"].Targets[0].Price!.InputPer1M);
        Assert.Equal(2, snapshot.Models["specific"].Targets[0].Price!.InputPer1M);
        Assert.Equal(1, snapshot.Models["generic"].Targets[0].Price!.InputPer1M);
        Assert.Null(snapshot.Models["none"].Targets[0].Price);
    }

    [Fact]
    public void Build_NegativePrice_RejectedWithPath()
    {
        var config = SnapshotBuilderTests.Parse("""
            { "providers": { "a": { "type": "openai-compatible", "base_url": "http://a/v1" } }, "models": { "m": { "targets": [ { "provider": "a" } ] } }, "auth": { "mode": "none" } }
            """);
        var pricing = ConfigFile.ParsePricing("""{ "models": { "m": { "input_per_1m": -1, "output_per_1m": 1 } } }""", out _);

        var result = SnapshotBuilderTests.Builder().Build(config, 1, pricing);

        Assert.Equal("pricing.models.m.input_per_1m: must be 0 or more", Assert.Single(result.Errors));
    }

    [Fact]
    public void Validate_PriceWithoutOutput_RejectedNotPricedAtZero()
    {
        var pricing = ConfigFile.ParsePricing("""{ "models": { "m": { "input_per_1m": 1 } } }""", out _);
        var errors = new List<string>();

        ConfigValidator.ValidatePricing(pricing!, errors);

        Assert.Equal("pricing.models.m.output_per_1m: required (a missing price is unknown, not zero)", Assert.Single(errors));
    }

    [Theory]
    [InlineData(1000, 500, 400, 2.5, 10.0, 1.25, "0.0070")]
    [InlineData(1000, 0, 0, 2.5, 10.0, null, "0.0025")]
    [InlineData(100, 100, 100, 1.0, 1.0, null, "0.0002")]
    [InlineData(0, 0, 0, 5.0, 5.0, 1.0, "0")]
    public void Compute_Usage_UncachedCachedAndOutputPriced(long input, long output, long cached, double inPrice, double outPrice, double? cachedPrice, string expected)
    {
        var price = new PriceConfig { InputPer1M = (decimal)inPrice, OutputPer1M = (decimal)outPrice, CachedInputPer1M = (decimal?)cachedPrice };

        var cost = CostCalculator.Compute(new TokenUsage(input, output, cached, 0, false), price);

        Assert.Equal(decimal.Parse(expected, System.Globalization.CultureInfo.InvariantCulture), cost);
    }

    [Fact]
    public void Compute_UnknownPrice_IsNullNotZero()
    {
        Assert.Null(CostCalculator.Compute(new TokenUsage(10, 10, 0, 0, false), null));
    }
}
