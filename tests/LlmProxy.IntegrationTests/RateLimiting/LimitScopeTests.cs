using System.Net;
using System.Text.Json.Nodes;
using LlmProxy.Configuration;
using LlmProxy.IntegrationTests.Infrastructure;
using WireMock.Server;

namespace LlmProxy.IntegrationTests.RateLimiting;

/// <summary>Team and key × model scopes, hot reload of limits, the default config's demo limits, and Redis key names.</summary>
public sealed class LimitScopeTests : IDisposable
{
    private readonly WireMockServer _upstream = LimitTestConfig.StartCompletionUpstream();

    public void Dispose() => _upstream.Stop();

    [Fact]
    public async Task Admit_TeamLimit_SharedByItsKeys()
    {
        var config = TestConfig.SingleModel(_upstream.Url + "/v1");
        config["keys"]![0]!["team"] = "search";
        config["keys"]![1]!["team"] = "search";
        config["teams"] = new JsonObject { ["search"] = new JsonObject { ["limits"] = new JsonObject { ["requests_per_hour"] = 2 } } };
        await using var app = config.Start();
        using var alpha = app.CreateClient(TestKeys.Alpha);
        using var beta = app.CreateClient(TestKeys.Beta);

        Assert.Equal(HttpStatusCode.OK, await StatusAsync(alpha, "test-model"));
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(beta, "other-model"));
        using var refused = await alpha.PostJsonAsync("/v1/chat/completions", """{"model":"test-model","messages":[]}""");

        var error = await OpenAIError.AssertAsync(refused, 429, "requests", "rate_limit_exceeded");
        Assert.Contains("for team search: Limit 2, Used 2", error.GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Admit_KeyOnModelLimit_OnlyThatModelIsLimited()
    {
        var config = TestConfig.SingleModel(_upstream.Url + "/v1");
        config["keys"]![0]!["model_limits"] = new JsonObject { ["test-alias"] = new JsonObject { ["requests_per_hour"] = 1 } };
        await using var app = config.Start();
        using var client = app.CreateClient();

        Assert.Equal(HttpStatusCode.OK, await StatusAsync(client, "test-model"));
        using var refused = await client.PostJsonAsync("/v1/chat/completions", """{"model":"test-alias","messages":[]}""");
        var error = await OpenAIError.AssertAsync(refused, 429, "requests", "rate_limit_exceeded");
        Assert.Contains("for key alpha on model test-model: Limit 1", error.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(client, "other-model"));
    }

    [Fact]
    public async Task Reload_LimitRaised_AppliesWithoutRestart()
    {
        var config = LimitTestConfig.With(_upstream.Url + "/v1", new() { ["requests_per_hour"] = 1 });
        await using var app = config.Start();
        using var client = app.CreateClient();
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(client, "test-model"));
        Assert.Equal(HttpStatusCode.TooManyRequests, await StatusAsync(client, "test-model"));
        var applied = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        app.Store.ReloadAttempted += outcome =>
        {
            if (outcome.Status == ConfigReloadStatus.Applied)
            {
                applied.TrySetResult();
            }
        };

        await File.WriteAllTextAsync(app.ConfigPath, LimitTestConfig.With(_upstream.Url + "/v1", new() { ["requests_per_hour"] = 1000 }).ToJsonString());
        await applied.Task.WaitAsync(TimeSpan.FromSeconds(20));

        using var after = await client.PostJsonAsync("/v1/chat/completions", LimitTestConfig.ChatRequest);
        Assert.Equal(HttpStatusCode.OK, after.StatusCode);
        Assert.Equal("1000", after.Headers.GetValues("x-ratelimit-limit-requests").Single());
    }

    [Fact]
    public async Task DefaultConfig_DemoKey_ShowsModestLimitsAndMeetsA429()
    {
        await using var app = GatewayApp.StartWithPath(RepoPaths.DefaultConfig);
        using var client = app.CreateClient("sk-llmproxy-demo");
        var body = """{"model":"demo-fast","messages":[{"role":"user","content":"hi"}],"max_tokens":5}""";

        using (var first = await client.PostJsonAsync("/v1/chat/completions", body))
        {
            Assert.Equal(HttpStatusCode.OK, first.StatusCode);
            Assert.Equal("20", first.Headers.GetValues("x-ratelimit-limit-requests").Single());
            Assert.Equal("19", first.Headers.GetValues("x-ratelimit-remaining-requests").Single());
            Assert.Equal("100000", first.Headers.GetValues("x-ratelimit-limit-tokens").Single());
        }

        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 20; i++)
        {
            using var response = await client.PostJsonAsync("/v1/chat/completions", body);
            statuses.Add(response.StatusCode);
        }

        Assert.Contains(HttpStatusCode.TooManyRequests, statuses);
    }

    [Fact]
    public async Task RedisKeys_AfterTraffic_CarryKeyIdsNeverTheApiKey()
    {
        await using var redis = await RedisServer.StartAsync();
        var config = LimitTestConfig.With(_upstream.Url + "/v1", new() { ["requests_per_minute"] = 100, ["tokens_per_minute"] = 100_000, ["concurrent"] = 5 }, redis.ConnectionString);
        config["models"]!["test-model"]!["limits"] = new JsonObject { ["requests_per_minute"] = 100 };
        await using var app = GatewayApp.Start(config.ToJsonString());
        await app.WaitUntilReadyIsAsync();
        using var client = app.CreateClient();
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(client, "test-model"));

        var server = StackExchange.Redis.ConnectionMultiplexer.Connect(redis.ConnectionString + ",allowAdmin=true").GetServer(redis.ConnectionString);
        var keys = server.Keys(pattern: "*").Select(static k => k.ToString()).Order(StringComparer.Ordinal).ToArray();

        var fields = (await redis.Database.HashKeysAsync("{llmproxy}:buckets")).Select(static f => f.ToString()).Order(StringComparer.Ordinal).ToArray();

        Assert.Equal(["{llmproxy}:buckets"], keys);
        Assert.Equal(["key:alpha:requests:minute", "key:alpha:tokens:minute", "model:test-model:requests:minute"], fields);
        Assert.DoesNotContain(keys.Concat(fields), static k => k.Contains(TestKeys.Alpha, StringComparison.Ordinal) || k.Contains(TestKeys.AlphaHash[7..], StringComparison.OrdinalIgnoreCase));
    }

    private static async Task<HttpStatusCode> StatusAsync(HttpClient client, string model)
    {
        using var response = await client.PostJsonAsync("/v1/chat/completions", $$"""{"model":"{{model}}","messages":[]}""");
        return response.StatusCode;
    }
}
