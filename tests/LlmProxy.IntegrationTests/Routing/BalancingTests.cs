using System.ClientModel;
using System.ClientModel.Primitives;
using System.Text.Json.Nodes;
using LlmProxy.IntegrationTests.Infrastructure;
using LlmProxy.Routing;
using Microsoft.Extensions.DependencyInjection;
using OpenAI;
using OpenAI.Chat;

namespace LlmProxy.IntegrationTests.Routing;

/// <summary>Balancing strategies and priority tiers through the gateway, with the attempt loop, against scripted providers.</summary>
public sealed class BalancingTests : IAsyncLifetime
{
    private ScriptedProvider _preferred = null!;
    private ScriptedProvider _spare = null!;

    public async Task InitializeAsync()
    {
        _preferred = await ScriptedProvider.StartAsync("preferred-upstream");
        _spare = await ScriptedProvider.StartAsync("spare-upstream");
    }

    public async Task DisposeAsync()
    {
        await _preferred.DisposeAsync();
        await _spare.DisposeAsync();
    }

    // test-model: the preferred provider at tier 0 (weight 1) and the spare at tier 1 with a weight that would take
    // nearly all traffic if tiers did not hold.
    private GatewayApp Start(string strategy, bool tiers = true)
    {
        var preferred = new JsonObject { ["provider"] = "preferred", ["model"] = "preferred-upstream", ["weight"] = 1 };
        var spare = new JsonObject { ["provider"] = "spare", ["model"] = "spare-upstream", ["weight"] = tiers ? 1_000_000 : 1 };
        if (tiers)
        {
            spare["priority"] = 1;
        }

        var config = new JsonObject
        {
            ["providers"] = new JsonObject
            {
                ["preferred"] = new JsonObject { ["type"] = "openai-compatible", ["base_url"] = _preferred.BaseUrl },
                ["spare"] = new JsonObject { ["type"] = "openai-compatible", ["base_url"] = _spare.BaseUrl },
            },
            ["models"] = new JsonObject
            {
                ["test-model"] = new JsonObject
                {
                    ["strategy"] = strategy,
                    ["targets"] = new JsonArray(preferred, spare),
                    ["retry"] = new JsonObject { ["max_attempts"] = 2, ["backoff_ms"] = 10, ["max_backoff_ms"] = 100 },
                    // The circuit stays closed here: these tests are about tiers, not circuit breaking.
                    ["health"] = new JsonObject { ["failures_to_open"] = 1000 },
                },
            },
            ["keys"] = new JsonArray(new JsonObject { ["id"] = "alpha", ["hash"] = TestKeys.AlphaHash, ["models"] = new JsonArray("*") }),
        };
        return GatewayApp.Start(config.ToJsonString());
    }

    private static ChatClient Chat(GatewayApp app) => new OpenAIClient(new ApiKeyCredential(TestKeys.Alpha),
        new OpenAIClientOptions { Endpoint = new Uri(app.BaseAddress, "v1"), RetryPolicy = new ClientRetryPolicy(maxRetries: 0) }).GetChatClient("test-model");

    private static string Header(PipelineResponse response, string name) => response.Headers.TryGetValue(name, out var value) ? value! : "";

    [Theory]
    [InlineData("weighted")]
    [InlineData("latency")]
    public async Task CompleteChat_TierZeroHealthy_TierOneGetsNothing(string strategy)
    {
        await using var app = Start(strategy);

        for (var i = 0; i < 8; i++)
        {
            var result = await Chat(app).CompleteChatAsync([new UserChatMessage("hi")]);
            Assert.Equal("preferred-upstream", result.Value.Model);
        }

        Assert.Equal(8, _preferred.Received.Count);
        Assert.Empty(_spare.Received);
    }

    [Theory]
    [InlineData("weighted")]
    [InlineData("round_robin")]
    [InlineData("least_in_flight")]
    [InlineData("latency")]
    public async Task CompleteChat_TierZeroFailing_TierOneAnswersEveryRequestAfterIt(string strategy)
    {
        _preferred.ThenError(503, "overloaded", "the preferred deployment is overloaded");
        await using var app = Start(strategy);

        for (var i = 0; i < 5; i++)
        {
            var result = await Chat(app).CompleteChatAsync([new UserChatMessage("hi")]);

            Assert.Equal("spare-upstream", result.Value.Model);
            Assert.Equal("2", Header(result.GetRawResponse(), "x-llmproxy-attempts"));
        }

        // Every request went to tier 0 first (weight 1 against 1,000,000) and failed over to tier 1.
        Assert.Equal(5, _preferred.Received.Count);
        Assert.Equal(5, _spare.Received.Count);
    }

    [Fact]
    public async Task CompleteChat_RoundRobin_AlternatesBetweenTheTargets()
    {
        await using var app = Start("round_robin", tiers: false);

        var models = new List<string>();
        for (var i = 0; i < 6; i++)
        {
            models.Add((await Chat(app).CompleteChatAsync([new UserChatMessage("hi")])).Value.Model);
        }

        Assert.Equal(3, models.Count(m => m == "preferred-upstream"));
        for (var i = 1; i < models.Count; i++)
        {
            Assert.NotEqual(models[i - 1], models[i]);
        }
    }

    [Fact]
    public async Task CompleteChat_LatencyStrategy_MeasuresEachAttemptOfItsTargets()
    {
        _preferred.ThenError(503).ThenAnswer("Recovered.");
        await using var app = Start("latency", tiers: false);
        var stats = app.Services.GetRequiredService<TargetStats>();

        for (var i = 0; i < 4; i++)
        {
            await Chat(app).CompleteChatAsync([new UserChatMessage("hi")]);
        }

        var targets = app.Store.Current.Models["test-model"].Targets;
        var preferred = stats.Get(targets[0].DestinationId);
        var spare = stats.Get(targets[1].DestinationId);
        Assert.True(preferred is not null && spare is not null, "both targets measured");
        // Both are tried while unmeasured; the preferred target's only attempt failed, every one of the spare's answered.
        Assert.True(preferred.ErrorRate > 0.5, $"error rate {preferred.ErrorRate}");
        Assert.Equal(0, spare.ErrorRate);
        Assert.True(preferred.LatencyMs >= 0 && spare.LatencyMs > 0);
    }

    [Fact]
    public async Task CompleteChat_WeightedStrategy_MeasuresNothing()
    {
        await using var app = Start("weighted", tiers: false);

        await Chat(app).CompleteChatAsync([new UserChatMessage("hi")]);

        var stats = app.Services.GetRequiredService<TargetStats>();
        Assert.All(app.Store.Current.Models["test-model"].Targets, t => Assert.Null(stats.Get(t.DestinationId)));
    }
}
