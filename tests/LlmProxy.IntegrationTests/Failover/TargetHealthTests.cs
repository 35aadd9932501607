using System.ClientModel;
using System.ClientModel.Primitives;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Text.Json.Nodes;
using LlmProxy.Failover;
using LlmProxy.IntegrationTests.Infrastructure;
using LlmProxy.Telemetry;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using OpenAI;
using OpenAI.Chat;
using StackExchange.Redis;

namespace LlmProxy.IntegrationTests.Failover;

/// <summary>
/// Passive health per target through the real gateway and scripted providers, with the official OpenAI SDK (its own
/// retries off). Cooldowns are scaled down to fractions of a second so that the circuits move in real time.
/// </summary>
public sealed class TargetHealthTests : IAsyncLifetime
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);
    private ScriptedProvider _primary = null!;
    private ScriptedProvider _second = null!;
    private ScriptedProvider _backup = null!;

    public async Task InitializeAsync()
    {
        _primary = await ScriptedProvider.StartAsync("upstream-model");
        _second = await ScriptedProvider.StartAsync("second-upstream");
        _backup = await ScriptedProvider.StartAsync("backup-upstream");
    }

    public async Task DisposeAsync()
    {
        await _primary.DisposeAsync();
        await _second.DisposeAsync();
        await _backup.DisposeAsync();
    }

    // test-model on the primary (heavily weighted, so it gets every request it may get) and, when asked, the second
    // provider; backup-model (on the backup provider) as its fallback when asked.
    private string Config(JsonObject health, bool secondTarget, bool fallback, string? redis = null)
    {
        var targets = new JsonArray(new JsonObject { ["provider"] = "primary", ["model"] = "upstream-model", ["weight"] = 1_000_000 });
        if (secondTarget)
        {
            targets.Add(new JsonObject { ["provider"] = "second", ["model"] = "second-upstream", ["weight"] = 1 });
        }

        var testModel = new JsonObject
        {
            ["targets"] = targets,
            ["retry"] = new JsonObject { ["max_attempts"] = 3, ["backoff_ms"] = 10, ["max_backoff_ms"] = 100 },
            ["health"] = health,
        };
        if (fallback)
        {
            testModel["fallbacks"] = new JsonArray("backup-model");
        }

        var config = new JsonObject
        {
            ["providers"] = new JsonObject
            {
                ["primary"] = new JsonObject { ["type"] = "openai-compatible", ["base_url"] = _primary.BaseUrl },
                ["second"] = new JsonObject { ["type"] = "openai-compatible", ["base_url"] = _second.BaseUrl },
                ["backup"] = new JsonObject { ["type"] = "openai-compatible", ["base_url"] = _backup.BaseUrl },
            },
            ["models"] = new JsonObject
            {
                ["test-model"] = testModel,
                ["backup-model"] = new JsonObject { ["targets"] = new JsonArray(new JsonObject { ["provider"] = "backup", ["model"] = "backup-upstream" }) },
            },
            ["keys"] = new JsonArray(new JsonObject { ["id"] = "alpha", ["hash"] = TestKeys.AlphaHash, ["models"] = new JsonArray("*") }),
        };
        if (redis is not null)
        {
            config["redis"] = new JsonObject { ["connection"] = redis, ["timeout_ms"] = 300 };
        }

        return config.ToJsonString();
    }

    private static ChatClient Chat(GatewayApp app) => new OpenAIClient(new ApiKeyCredential(TestKeys.Alpha),
        new OpenAIClientOptions { Endpoint = new Uri(app.BaseAddress, "v1"), RetryPolicy = new ClientRetryPolicy(maxRetries: 0) }).GetChatClient("test-model");

    private static string PrimaryId(GatewayApp app) => app.Store.Current.Models["test-model"].Targets[0].DestinationId;

    private static TargetCircuitState State(GatewayApp app)
    {
        var health = app.Services.GetRequiredService<TargetHealth>();
        return health.StateOf(PrimaryId(app), app.Services.GetRequiredService<TimeProvider>().GetUtcNow());
    }

    // Polls (the circuits move on their own clock); fails after Patience.
    private static async Task<TimeSpan> UntilAsync(Func<bool> condition, string what)
    {
        var watch = Stopwatch.StartNew();
        while (!condition())
        {
            Assert.True(watch.Elapsed < Patience, $"{what} did not happen within {Patience.TotalSeconds} s");
            await Task.Delay(10);
        }

        return watch.Elapsed;
    }

    private static async Task<string> AnswerModelAsync(ChatClient chat, string prompt = "hi")
        => (await chat.CompleteChatAsync([new UserChatMessage(prompt)])).Value.Model;

    [Fact]
    public async Task CompleteChat_OneTargetKeepsFailing_OpensSkipsLetsOneProbeThroughAndClosesOnSuccess()
    {
        _primary.ThenError(503).ThenError(503).ThenAnswerAfter(TimeSpan.FromMilliseconds(500), "Primary is back.");
        var health = new JsonObject { ["failures_to_open"] = 2, ["cooldown_seconds"] = 0.5, ["max_cooldown_seconds"] = 0.5 };
        await using var app = GatewayApp.Start(Config(health, secondTarget: true, fallback: false));
        var chat = Chat(app);

        // Two failures in a row (each request still answered by the second target) open the primary's circuit.
        Assert.Equal("second-upstream", await AnswerModelAsync(chat));
        Assert.Equal(TargetCircuitState.Closed, State(app));
        Assert.Equal("second-upstream", await AnswerModelAsync(chat));
        Assert.Equal(TargetCircuitState.Open, State(app));
        Assert.Equal(2, _primary.Received.Count);

        // While open the primary is skipped: one attempt each, on the second target.
        for (var i = 0; i < 3; i++)
        {
            var skipped = await chat.CompleteChatAsync([new UserChatMessage("while open")]);
            Assert.Equal("second-upstream", skipped.Value.Model);
            // One attempt: the header is only on answers that took more.
            Assert.False(skipped.GetRawResponse().Headers.TryGetValue("x-llmproxy-attempts", out _));
        }

        Assert.Equal(2, _primary.Received.Count);
        using (var client = app.CreateClient(key: null))
        {
            var details = JsonNode.Parse(await client.GetStringAsync("/health/ready?details=true"))!;
            var target = details["checks"]!["targets"]!["data"]!["test-model#0"]!;
            Assert.Equal("open", target["state"]!.GetValue<string>());
            Assert.Equal("primary", target["provider"]!.GetValue<string>());
            Assert.Equal("closed", details["checks"]!["targets"]!["data"]!["test-model#1"]!["state"]!.GetValue<string>());
            Assert.Equal("Healthy", await client.GetStringAsync("/health/ready"));
        }

        using (var gauge = new MetricCollector<double>(app.Services.GetRequiredService<IMeterFactory>(), LlmProxyMetrics.MeterName, "llmproxy.target.health"))
        {
            gauge.RecordObservableInstruments();
            var points = gauge.GetMeasurementSnapshot();
            Assert.Equal(0.0, points.Single(p => (string?)p.Tags["target"] == "test-model#0").Value);
            Assert.Equal(1.0, points.Single(p => (string?)p.Tags["target"] == "test-model#1").Value);
            Assert.Equal("primary", points.Single(p => (string?)p.Tags["target"] == "test-model#0").Tags["provider"]);
        }

        // After the cooldown exactly one of four concurrent requests is the probe; the others keep skipping the primary.
        await UntilAsync(() => State(app) == TargetCircuitState.HalfOpen, "half-open");
        var models = await Task.WhenAll(Enumerable.Range(0, 4).Select(i => AnswerModelAsync(chat, $"concurrent {i}")));

        Assert.Equal(3, _primary.Received.Count);
        Assert.Equal(1, models.Count(m => m == "upstream-model"));
        Assert.Equal(3, models.Count(m => m == "second-upstream"));

        // The probe answered: the primary is back in rotation.
        Assert.Equal(TargetCircuitState.Closed, State(app));
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal("upstream-model", await AnswerModelAsync(chat));
        }

        Assert.Equal(6, _primary.Received.Count);
    }

    [Fact]
    public async Task CompleteChat_PrimaryFlapsS15_FallbackDuringTheOutageThenBackOnThePrimaryWithinTheScaledBound()
    {
        // failoverbench S15, scaled down 10×: the primary answers 503 for the first 2.5 s, then is healthy; a request
        // every 100 ms; correct: served from the fallback during the outage, a probe, back on the primary within 3 s
        // (30 s scaled) of its recovery. Cooldown 0.25 s doubling to 1 s (30 s / 300 s in the default config).
        var healthyAt = _primary.Elapsed + TimeSpan.FromSeconds(2.5);
        var bound = TimeSpan.FromSeconds(3);
        _primary.ThenErrorUntilThenAnswer(healthyAt, 503, "Primary.");
        var health = new JsonObject { ["failures_to_open"] = 3, ["cooldown_seconds"] = 0.25, ["max_cooldown_seconds"] = 1 };
        await using var app = GatewayApp.Start(Config(health, secondTarget: false, fallback: true));
        var chat = Chat(app);
        var answers = new List<(TimeSpan SentAt, TimeSpan At, string Model)>();

        while (_primary.Elapsed < healthyAt + bound + TimeSpan.FromSeconds(0.5))
        {
            var sentAt = _primary.Elapsed;
            var model = await AnswerModelAsync(chat);
            answers.Add((sentAt, _primary.Elapsed, model));
            var pause = TimeSpan.FromMilliseconds(100) - (_primary.Elapsed - sentAt);
            if (pause > TimeSpan.Zero)
            {
                await Task.Delay(pause);
            }
        }

        // Every request was answered (the SDK throws on an error); during the outage, by the fallback.
        var duringOutage = answers.Where(a => a.At < healthyAt).ToList();
        Assert.True(duringOutage.Count >= 10, $"only {duringOutage.Count} requests during the outage");
        Assert.All(duringOutage, a => Assert.Equal("backup-upstream", a.Model));
        // The open circuit kept the primary out: 3 failures to open, then only probes (not 3 attempts per request).
        var primaryDuringOutage = _primary.Received.Count(r => r.At < healthyAt);
        Assert.True(primaryDuringOutage <= 3 + 6, $"{primaryDuringOutage} requests reached the primary during the outage of {duringOutage.Count}");
        // Back on the primary within the bound, and there to stay.
        var first = answers.FindIndex(a => a.Model == "upstream-model");
        Assert.True(first >= 0, "never back on the primary");
        Assert.True(answers[first].At - healthyAt <= bound, $"back on the primary {(answers[first].At - healthyAt).TotalSeconds:0.00} s after its recovery");
        Assert.All(answers.Skip(first), a => Assert.Equal("upstream-model", a.Model));
        Assert.Equal(TargetCircuitState.Closed, State(app));
    }

    [Fact]
    public async Task CompleteChat_AllTargetsOpenAndNoFallback_SentToTheTargetBackSoonest()
    {
        _primary.ThenError(503);
        var health = new JsonObject { ["failures_to_open"] = 1, ["cooldown_seconds"] = 60, ["max_cooldown_seconds"] = 60 };
        await using var app = GatewayApp.Start(Config(health, secondTarget: false, fallback: false));
        var chat = Chat(app);

        await Assert.ThrowsAsync<ClientResultException>(() => chat.CompleteChatAsync([new UserChatMessage("opens it")]));
        Assert.Equal(TargetCircuitState.Open, State(app));
        var before = _primary.Received.Count;
        _primary.ThenAnswer("Still tried.");

        // Not failed without trying: the only target goes out, open or not.
        Assert.Equal("upstream-model", await AnswerModelAsync(chat));
        Assert.Equal(before + 1, _primary.Received.Count);
        Assert.Equal(TargetCircuitState.Closed, State(app));
    }

    [Fact]
    public async Task CompleteChat_TwoReplicasSharingRedis_CircuitOpenedOnOneKeepsTheOtherAwayWithinASecond()
    {
        await using var redis = await RedisServer.StartAsync();
        _primary.ThenError(503);
        var health = new JsonObject { ["failures_to_open"] = 2, ["cooldown_seconds"] = 30, ["max_cooldown_seconds"] = 30 };
        var config = Config(health, secondTarget: true, fallback: false, redis: redis.ConnectionString);
        await using var one = GatewayApp.Start(config);
        await using var two = GatewayApp.Start(config);
        await one.WaitUntilReadyIsAsync();
        await two.WaitUntilReadyIsAsync();
        await UntilAsync(() => Subscribers(redis) == 2, "both replicas subscribed");
        Assert.Equal(PrimaryId(one), PrimaryId(two));

        Assert.Equal("second-upstream", await AnswerModelAsync(Chat(one)));
        Assert.Equal("second-upstream", await AnswerModelAsync(Chat(one)));
        Assert.Equal(TargetCircuitState.Open, State(one));

        var took = await UntilAsync(() => State(two) == TargetCircuitState.Open, "the second replica opening the circuit");
        Assert.True(took < TimeSpan.FromSeconds(1), $"the second replica learnt it after {took.TotalMilliseconds:0} ms");
        Assert.Equal("second-upstream", await AnswerModelAsync(Chat(two)));
        // The second replica never sent a request to the failing primary.
        Assert.Equal(2, _primary.Received.Count);
    }

    [Fact]
    public async Task CompleteChat_TwoReplicasSharingRedis_RetryAfterHoldReachesTheOtherReplica()
    {
        await using var redis = await RedisServer.StartAsync();
        _primary.ThenError(429, "rate_limit_exceeded", "slow down", ("retry-after", "30"));
        var health = new JsonObject { ["throttles_to_open"] = 5 };
        var config = Config(health, secondTarget: true, fallback: false, redis: redis.ConnectionString);
        await using var one = GatewayApp.Start(config);
        await using var two = GatewayApp.Start(config);
        await one.WaitUntilReadyIsAsync();
        await two.WaitUntilReadyIsAsync();
        await UntilAsync(() => Subscribers(redis) == 2, "both replicas subscribed");

        Assert.Equal("second-upstream", await AnswerModelAsync(Chat(one)));
        var health2 = two.Services.GetRequiredService<TargetHealth>();
        var took = await UntilAsync(() => !health2.IsAvailable(PrimaryId(two), DateTimeOffset.UtcNow), "the hold reaching the second replica");

        Assert.True(took < TimeSpan.FromSeconds(1), $"the second replica learnt it after {took.TotalMilliseconds:0} ms");
        Assert.Equal(TargetCircuitState.Closed, State(two));
        Assert.Equal("second-upstream", await AnswerModelAsync(Chat(two)));
        Assert.Single(_primary.Received);
    }

    private static long Subscribers(RedisServer redis)
    {
        var reply = (RedisResult[])redis.Database.Execute("PUBSUB", "NUMSUB", TargetHealthSharing.Channel.ToString())!;
        return (long)reply[1];
    }
}
