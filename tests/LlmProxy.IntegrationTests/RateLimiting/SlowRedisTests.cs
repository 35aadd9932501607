using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Net;
using LlmProxy.IntegrationTests.Infrastructure;
using LlmProxy.Telemetry;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using WireMock.Server;

namespace LlmProxy.IntegrationTests.RateLimiting;

/// <summary>
/// A slow but healthy Redis keeps limits exact (a late reply is still used); a frozen one costs a request a bounded
/// wait, and once the circuit opens requests take the policy at once. The class runs alone (its own collection, not
/// beside other test classes): the reply wait is wall-clock time on a real Redis, and a 2-core machine busy with the
/// rest of the suite delayed one reply of the burst past it (51 admitted: one fail-open).
/// </summary>
[Collection(nameof(SlowRedisCollection))]
public sealed class SlowRedisTests : IAsyncLifetime
{
    private readonly WireMockServer _upstream = LimitTestConfig.StartCompletionUpstream();
    private RedisServer _redis = null!;

    public async Task InitializeAsync()
    {
        _redis = await RedisServer.StartAsync();
    }

    public async Task DisposeAsync()
    {
        _upstream.Stop();
        await _redis.DisposeAsync();
    }

    [Fact]
    public async Task Admit_RedisSlowUnderBurstOnThreeReplicas_AdmitsExactlyTheLimitAndNeverFailsOpen()
    {
        var config = Config(new() { ["requests_per_day"] = 50 }, "fail-open", replicas: 3);
        var apps = new GatewayApp[3];
        var decisions = new MetricCollector<long>[3];
        var clients = new HttpClient[3];
        try
        {
            for (var i = 0; i < apps.Length; i++)
            {
                apps[i] = GatewayApp.Start(config);
                decisions[i] = new MetricCollector<long>(apps[i].Services.GetRequiredService<IMeterFactory>(), LlmProxyMetrics.MeterName, "llmproxy.rate_limit.decisions");
                clients[i] = apps[i].CreateClient();
            }

            foreach (var app in apps)
            {
                await app.WaitUntilReadyIsAsync();
            }

            // Redis holds every script of the burst for up to 150 ms (three times timeout_ms) on connections that stay up.
            await _redis.PauseAsync(150);
            var sends = Enumerable.Range(0, 200).Select(async i =>
            {
                using var response = await clients[i % 3].PostJsonAsync("/v1/chat/completions", LimitTestConfig.ChatRequest);
                return response.StatusCode;
            });
            var statuses = await Task.WhenAll(sends);

            // Every status, so that a failure says what the other answers were.
            var histogram = string.Join(", ", statuses.GroupBy(static s => (int)s).OrderBy(static g => g.Key).Select(static g => $"{g.Key}: {g.Count()}"))
                + "; decisions: " + string.Join(", ", decisions.SelectMany(static c => c.GetMeasurementSnapshot())
                    .GroupBy(static m => (string?)m.Tags["decision"]).Select(static g => $"{g.Key}: {g.Sum(static m => m.Value)}"));
            Assert.True(statuses.Count(static s => s == HttpStatusCode.OK) == 50, histogram);
            Assert.True(statuses.Count(static s => s == HttpStatusCode.TooManyRequests) == 150, histogram);
            Assert.Equal(50, _upstream.LogEntries.Count());
            foreach (var collector in decisions)
            {
                Assert.DoesNotContain(collector.GetMeasurementSnapshot(), static m => (string?)m.Tags["decision"] is "fail_open" or "fail_closed");
            }

            Assert.DoesNotContain(apps.SelectMany(static a => a.Logs.GetSnapshot()), static r => r.Id.Id == EventIds.RateLimitFallback);
        }
        finally
        {
            foreach (var client in clients)
            {
                client?.Dispose();
            }

            foreach (var collector in decisions)
            {
                collector?.Dispose();
            }

            foreach (var app in apps)
            {
                if (app is not null)
                {
                    await app.DisposeAsync();
                }
            }
        }
    }

    [Theory]
    [InlineData("fail-open", HttpStatusCode.OK, "Degraded")]
    [InlineData("fail-closed", HttpStatusCode.ServiceUnavailable, "Unhealthy")]
    public async Task Admit_RedisFrozen_PolicyWithinBoundThenNoWaitOnceTheCircuitOpens(string policy, HttpStatusCode status, string health)
    {
        await using var app = GatewayApp.Start(Config(new() { ["requests_per_day"] = 1000 }, policy, replicas: 1));
        await app.WaitUntilReadyIsAsync();
        using var client = app.CreateClient();
        using var probe = app.CreateClient(key: null);
        Assert.Equal(HttpStatusCode.OK, (await TimedAsync(client)).Status);

        _redis.Freeze();
        try
        {
            // Each of the first requests waits for its reply at most the hard cap (250 ms), never more.
            for (var i = 0; i < 3; i++)
            {
                var (answered, took) = await TimedAsync(client);
                Assert.Equal(status, answered);
                Assert.True(took < TimeSpan.FromMilliseconds(1500), $"request {i} took {took.TotalMilliseconds} ms with Redis frozen");
            }

            // Three failures in a row open the circuit: now requests do not wait at all (five waits would be 1.25 s).
            var open = Stopwatch.StartNew();
            for (var i = 0; i < 5; i++)
            {
                Assert.Equal(status, (await TimedAsync(client)).Status);
            }

            Assert.True(open.Elapsed < TimeSpan.FromMilliseconds(1000), $"five requests took {open.Elapsed.TotalMilliseconds} ms with the circuit open");
            using var ready = await probe.GetAsync("/health/ready");
            Assert.Equal(health, await ready.Content.ReadAsStringAsync());
        }
        finally
        {
            _redis.Thaw();
        }

        // A probe after the open period finds Redis answering again and closes the circuit.
        await app.WaitUntilReadyIsAsync("Healthy");
        Assert.Equal(HttpStatusCode.OK, (await TimedAsync(client)).Status);
    }

    private string Config(System.Text.Json.Nodes.JsonObject limits, string policy, int replicas)
    {
        var config = LimitTestConfig.With(_upstream.Url + "/v1", limits, _redis.ConnectionString, policy, replicas);
        config["redis"]!["timeout_ms"] = 50;
        return config.ToJsonString();
    }

    private static async Task<(HttpStatusCode Status, TimeSpan Took)> TimedAsync(HttpClient client)
    {
        var started = Stopwatch.StartNew();
        using var response = await client.PostJsonAsync("/v1/chat/completions", LimitTestConfig.ChatRequest);
        return (response.StatusCode, started.Elapsed);
    }
}

[CollectionDefinition(nameof(SlowRedisCollection), DisableParallelization = true)]
public sealed class SlowRedisCollection;
