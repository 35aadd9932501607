using System.Text.Json.Nodes;
using LlmProxy.IntegrationTests.Infrastructure;
using LlmProxy.Telemetry;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace LlmProxy.IntegrationTests.Failover;

/// <summary>Edge cases of the attempt loop an independent review found: second cuts, fallbacks with several targets, finished streams, accounting.</summary>
public sealed class FailoverEdgeCaseTests : IAsyncLifetime
{
    private readonly CapturingSink _sink = new();
    private ScriptedProvider _primary = null!;
    private ScriptedProvider _backup = null!;
    private ScriptedProvider _second = null!;

    public async Task InitializeAsync()
    {
        _primary = await ScriptedProvider.StartAsync("upstream-model");
        _backup = await ScriptedProvider.StartAsync("backup-upstream");
        _second = await ScriptedProvider.StartAsync("second-upstream");
    }

    public async Task DisposeAsync()
    {
        await _primary.DisposeAsync();
        await _backup.DisposeAsync();
        await _second.DisposeAsync();
    }

    private GatewayApp Start(bool fallback = true, bool backupTwoTargets = false, int primaryAttempts = 2, double idleSeconds = 30, double? deadlineSeconds = null,
        bool bufferStructuredStreams = false)
    {
        var backupTargets = new JsonArray(new JsonObject { ["provider"] = "backup", ["model"] = "backup-upstream", ["weight"] = 1_000_000 });
        if (backupTwoTargets)
        {
            backupTargets.Add(new JsonObject { ["provider"] = "second", ["model"] = "second-upstream", ["weight"] = 1 });
        }

        var testModel = new JsonObject
        {
            ["targets"] = new JsonArray(new JsonObject { ["provider"] = "primary", ["model"] = "upstream-model" }),
            ["retry"] = new JsonObject { ["max_attempts"] = primaryAttempts, ["backoff_ms"] = 10 },
            ["timeout_seconds"] = idleSeconds,
        };
        if (deadlineSeconds is { } deadline)
        {
            testModel["deadline_seconds"] = deadline;
        }

        if (fallback)
        {
            testModel["fallbacks"] = new JsonArray("backup-model");
        }

        if (bufferStructuredStreams)
        {
            testModel["structured_output"] = new JsonObject { ["policy"] = "reject", ["stream_mode"] = "buffer" };
        }

        var config = new JsonObject
        {
            ["providers"] = new JsonObject
            {
                ["primary"] = new JsonObject { ["type"] = "openai-compatible", ["base_url"] = _primary.BaseUrl },
                ["backup"] = new JsonObject { ["type"] = "openai-compatible", ["base_url"] = _backup.BaseUrl },
                ["second"] = new JsonObject { ["type"] = "openai-compatible", ["base_url"] = _second.BaseUrl },
            },
            ["models"] = new JsonObject
            {
                ["test-model"] = testModel,
                ["backup-model"] = new JsonObject
                {
                    ["targets"] = backupTargets,
                    ["retry"] = new JsonObject { ["max_attempts"] = 3, ["backoff_ms"] = 10 },
                },
            },
            ["keys"] = new JsonArray(new JsonObject { ["id"] = "alpha", ["hash"] = TestKeys.AlphaHash, ["models"] = new JsonArray("*") }),
        };
        return GatewayApp.Start(config.ToJsonString(), services => services.AddSingleton<IUsageSink>(_sink));
    }

    private static async Task<(int Status, string Body)> PostAsync(GatewayApp app, bool stream)
    {
        using var client = app.CreateClient();
        client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", TestKeys.Alpha);
        using var response = await client.PostJsonAsync("/v1/chat/completions",
            "{\"model\":\"test-model\",\"stream\":" + (stream ? "true" : "false") + ",\"messages\":[{\"role\":\"user\",\"content\":\"Explain in sixty words.\"}]}");
        return ((int)response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    // A continuation that passes part of the rest and is then cut must not end as a success.
    [Fact]
    public async Task Stream_ContinuationCutToo_EndsWithAnErrorEvent()
    {
        _primary.ThenStreamCut(false, "The gateway ", "earns trust ");
        _backup.ThenStreamCut(false, "when the ");
        await using var app = Start();

        var (_, body) = await PostAsync(app, stream: true);

        Assert.Contains("when the ", body, StringComparison.Ordinal);
        Assert.Contains("\"error\"", body, StringComparison.Ordinal);
        Assert.DoesNotContain("[DONE]", body, StringComparison.Ordinal);
    }

    // After moving to a fallback, a retry on the fallback must not go back to the fallback target that just failed.
    [Fact]
    public async Task CompleteChat_FallbackWithTwoTargets_RetryGoesToTheOtherTarget()
    {
        _primary.ThenError(503, null, "down");
        _backup.ThenError(503, null, "down");
        _second.ThenAnswer("From the second.");
        await using var app = Start(backupTwoTargets: true, primaryAttempts: 1);

        var (status, body) = await PostAsync(app, stream: false);

        Assert.Equal(200, status);
        Assert.Contains("From the second.", body, StringComparison.Ordinal);
        Assert.Single(_backup.Received);
    }

    // A provider that sent the finish reason, then went silent before [DONE], finished its answer: no continuation.
    [Fact]
    public async Task Stream_SilentAfterFinishReason_FinishedWithoutContinuation()
    {
        _primary.Then(async context =>
        {
            context.Response.ContentType = "text/event-stream";
            await context.Response.WriteAsync("data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"upstream-model\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Whole answer.\"},\"finish_reason\":null}]}\n\n");
            await context.Response.WriteAsync("data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"upstream-model\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n");
            await context.Response.Body.FlushAsync();
            try
            {
                await Task.Delay(Timeout.Infinite, context.RequestAborted);
            }
            catch (OperationCanceledException)
            {
                // The gateway gave up on the rest, as it should.
            }
        });
        _backup.ThenAnswer("EXTRA TEXT");
        await using var app = Start(idleSeconds: 0.5);

        var (_, body) = await PostAsync(app, stream: true);

        Assert.Empty(_backup.Received);
        Assert.DoesNotContain("EXTRA", body, StringComparison.Ordinal);
        Assert.DoesNotContain("\"error\"", body, StringComparison.Ordinal);
        Assert.EndsWith("data: [DONE]\n\n", body, StringComparison.Ordinal);
    }

    // A provider that keeps sending, never idle, past the request's deadline: the deadline still ends the stream, with
    // the timeout error event (no [DONE]), far sooner than the idle timeout; the usage record says it timed out.
    [Fact]
    public async Task Stream_TricklingPastTheDeadline_EndedWithTimeoutErrorEvent()
    {
        _primary.ThenStreamTrickle(TimeSpan.FromMilliseconds(100));
        await using var app = Start(fallback: false, primaryAttempts: 1, idleSeconds: 60, deadlineSeconds: 1.5);
        var started = System.Diagnostics.Stopwatch.GetTimestamp();

        var (status, body) = await PostAsync(app, stream: true);

        var wall = System.Diagnostics.Stopwatch.GetElapsedTime(started);
        Assert.Equal(200, status);
        Assert.Contains("tick ", body, StringComparison.Ordinal);
        Assert.Contains("deadline passed", body, StringComparison.Ordinal);
        Assert.DoesNotContain("[DONE]", body, StringComparison.Ordinal);
        Assert.True(wall >= TimeSpan.FromSeconds(1.4) && wall < TimeSpan.FromSeconds(10), $"wall {wall.TotalSeconds} s");
        var record = await _sink.NextAsync();
        Assert.Equal(ErrorCategory.UpstreamTimeout, record.Error);
    }

    // A buffered structured-output stream passes nothing until its end, so the reads go on inside the guard: the deadline
    // must still end it (nothing reached the client, so as a 504 or an error event, never as a stream run for minutes).
    [Fact]
    public async Task Stream_BufferedStructuredOutputTricklingPastTheDeadline_Ended()
    {
        // A JSON object whose string never ends: valid so far, so the validator holds every event.
        _primary.ThenStreamTrickle(TimeSpan.FromMilliseconds(100), opening: "{\"a\":\"");
        await using var app = Start(fallback: false, primaryAttempts: 1, idleSeconds: 60, deadlineSeconds: 1.5, bufferStructuredStreams: true);
        using var client = app.CreateClient();
        client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", TestKeys.Alpha);
        var started = System.Diagnostics.Stopwatch.GetTimestamp();

        using var response = await client.PostJsonAsync("/v1/chat/completions",
            "{\"model\":\"test-model\",\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]," +
            "\"response_format\":{\"type\":\"json_schema\",\"json_schema\":{\"name\":\"a\",\"schema\":{\"type\":\"object\"}}}}");
        var body = await response.Content.ReadAsStringAsync();

        var wall = System.Diagnostics.Stopwatch.GetElapsedTime(started);
        Assert.True(wall < TimeSpan.FromSeconds(10), $"wall {wall.TotalSeconds} s");
        Assert.Contains("deadline", body, StringComparison.Ordinal);
        Assert.DoesNotContain("[DONE]", body, StringComparison.Ordinal);
        var record = await _sink.NextAsync();
        Assert.Equal(ErrorCategory.UpstreamTimeout, record.Error);
    }

    // A continuation target that failed (503, nothing generated) must not be billed an estimate of its prompt.
    [Fact]
    public async Task Stream_FailedContinuationAttempt_NotBilled()
    {
        _primary.ThenStreamCut(false, "The gateway ", "earns trust ");
        await using (var alone = Start(fallback: false))
        {
            await PostAsync(alone, stream: true);
        }

        var first = await _sink.NextAsync();
        var baseline = first.Usage?.Total ?? -1;
        _primary.ThenStreamCut(false, "The gateway ", "earns trust ");
        _backup.ThenError(503, null, "down");
        await using var app = Start();
        await PostAsync(app, stream: true);

        var record = await _sink.NextAsync();
        Assert.Equal($"{baseline} {first.Usage}", $"{record.Usage?.Total ?? -1} {record.Usage}");
    }

    // A Responses API stream (no transcript) whose provider resets after the headers, before any event: nothing reached
    // the client, so it should be retried like any request.
    [Fact]
    public async Task ResponsesStream_ResetBeforeFirstEvent_Retried()
    {
        _primary.Then(async context =>
        {
            context.Response.ContentType = "text/event-stream";
            await context.Response.Body.FlushAsync();
            context.Abort();
        }).ThenAnswer("ok");
        await using var app = Start(fallback: false, primaryAttempts: 3);
        using var client = app.CreateClient();
        client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", TestKeys.Alpha);
        using var response = await client.PostJsonAsync("/v1/responses", "{\"model\":\"test-model\",\"stream\":true,\"input\":\"hi\"}");
        var body = await response.Content.ReadAsStringAsync();

        Assert.True(_primary.Received.Count == 2, $"{_primary.Received.Count} attempts; {(int)response.StatusCode}: {body}");
    }
}
