using System.Text.Json.Nodes;
using LlmProxy.Configuration;
using LlmProxy.IntegrationTests.Infrastructure;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;
using WireMock.Server;

namespace LlmProxy.IntegrationTests.Configuration;

public sealed class ConfigReloadTests : IDisposable
{
    private readonly WireMockServer _upstream = WireMockServer.Start();

    public ConfigReloadTests()
        => _upstream.Given(Request.Create().UsingPost()).RespondWith(Response.Create().WithStatusCode(200).WithBody("{}"));

    public void Dispose() => _upstream.Stop();

    [Fact]
    public void Start_InvalidConfig_FailsListingEveryErrorWithItsPath()
    {
        var config = TestConfig.SingleModel(_upstream.Url! + "/v1");
        config["models"]!["test-model"]!["targets"]![0]!["provider"] = "missing";
        config["providers"]!["up"]!["type"] = "bogus";
        config["keys"]![0]!["hash"] = "plain-text-key";

        var thrown = Record.Exception(() => GatewayApp.Start(config.ToJsonString()));

        var invalid = FindInChain<InvalidConfigException>(thrown);
        Assert.NotNull(invalid);
        Assert.Contains(invalid.Errors, e => e.StartsWith("models.test-model.targets[0].provider: unknown provider 'missing'", StringComparison.Ordinal));
        Assert.Contains(invalid.Errors, e => e.StartsWith("providers.up.type: unknown provider type 'bogus'", StringComparison.Ordinal));
        Assert.Contains(invalid.Errors, e => e.StartsWith("keys[0].hash:", StringComparison.Ordinal));
    }

    [Fact]
    public void Start_MalformedConfigFile_FailsWithJsonPath()
    {
        var thrown = Record.Exception(() => GatewayApp.Start("""{"providers":{"up":{"type":"openai-compatible","base_url":42}}}"""));

        var invalid = FindInChain<InvalidConfigException>(thrown);
        Assert.NotNull(invalid);
        Assert.StartsWith("$.providers.up.base_url:", Assert.Single(invalid.Errors), StringComparison.Ordinal);
    }

    [Fact]
    public async Task FileEdit_ValidConfig_AppliedWithoutRestart()
    {
        await using var app = TestConfig.SingleModel(_upstream.Url! + "/v1").Start();
        using var client = app.CreateClient();
        using var before = await client.PostJsonAsync("/v1/chat/completions", """{"model":"new-model"}""");
        var applied = new TaskCompletionSource<ConfigReloadOutcome>(TaskCreationOptions.RunContinuationsAsynchronously);
        app.Store.ReloadAttempted += outcome =>
        {
            if (outcome.Status == ConfigReloadStatus.Applied)
            {
                applied.TrySetResult(outcome);
            }
        };
        var edited = TestConfig.SingleModel(_upstream.Url! + "/v1");
        edited["models"]!["new-model"] = new JsonObject { ["targets"] = new JsonArray(new JsonObject { ["provider"] = "up", ["model"] = "fresh" }) };

        await File.WriteAllTextAsync(app.ConfigPath, edited.ToJsonString());
        await applied.Task.WaitAsync(TimeSpan.FromSeconds(20));
        await app.Applied.WaitForRevisionAsync(app.Store.Current.Revision);
        using var after = await client.PostJsonAsync("/v1/chat/completions", """{"model":"new-model"}""");

        Assert.Equal(404, (int)before.StatusCode);
        Assert.Equal(200, (int)after.StatusCode);
        Assert.Equal("""{"model":"fresh"}""", _upstream.LogEntries.Last().RequestMessage!.Body);
        Assert.Equal(2, app.Store.Current.Revision);
    }

    [Fact]
    public async Task FileEdit_InvalidConfig_KeepsLastGoodConfigAndLogsWhy()
    {
        await using var app = TestConfig.SingleModel(_upstream.Url! + "/v1").Start();
        using var client = app.CreateClient();
        var rejected = new TaskCompletionSource<ConfigReloadOutcome>(TaskCreationOptions.RunContinuationsAsynchronously);
        app.Store.ReloadAttempted += outcome =>
        {
            // An editor may be caught mid-write (a parse error first): wait for the edit's own error.
            if (outcome.Status == ConfigReloadStatus.Rejected && outcome.Errors.Any(e => e.Contains("weight", StringComparison.Ordinal)))
            {
                rejected.TrySetResult(outcome);
            }
        };
        var broken = TestConfig.SingleModel(_upstream.Url! + "/v1");
        broken["models"]!["test-model"]!["targets"]![0]!["weight"] = -1;

        await File.WriteAllTextAsync(app.ConfigPath, broken.ToJsonString());
        var outcome = await rejected.Task.WaitAsync(TimeSpan.FromSeconds(20));
        using var response = await client.PostJsonAsync("/v1/chat/completions", """{"model":"test-model"}""");

        Assert.Contains("models.test-model.targets[0].weight: must be between 0 and 1000000", outcome.Errors);
        Assert.Equal(1, app.Store.Current.Revision);
        Assert.Equal(200, (int)response.StatusCode);
        Assert.Contains(app.Logs.GetSnapshot(), r => r.Message.Contains("rejected", StringComparison.Ordinal) && r.Message.Contains("targets[0].weight", StringComparison.Ordinal));
        using var ready = await client.GetAsync("/health/ready");
        Assert.Equal(200, (int)ready.StatusCode);
    }

    private static T? FindInChain<T>(Exception? exception)
        where T : Exception
    {
        for (var current = exception; current is not null; current = current.InnerException)
        {
            if (current is T match)
            {
                return match;
            }

            if (current is AggregateException aggregate)
            {
                foreach (var inner in aggregate.InnerExceptions)
                {
                    if (FindInChain<T>(inner) is { } found)
                    {
                        return found;
                    }
                }
            }
        }

        return null;
    }
}
