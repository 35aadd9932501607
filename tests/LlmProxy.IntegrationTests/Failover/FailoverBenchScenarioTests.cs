using System.ClientModel;
using System.ClientModel.Primitives;
using System.Diagnostics;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using LlmProxy.IntegrationTests.Infrastructure;
using OpenAI;
using OpenAI.Chat;

namespace LlmProxy.IntegrationTests.Failover;

/// <summary>
/// failoverbench (methodology v0.1, scenarios/catalogue.yaml) scenario by scenario, each against its `correct` line and
/// checks, with the baseline budget: 2 retries (max_attempts 3), one timeout for the first byte and for stream idle, one
/// fallback model (fb-ok, whose provider continues a prefill unless the scenario says otherwise). Every call is a stream
/// through the official OpenAI SDK with its own retries off. Timings are scaled down: the 30 s timeout is 1 s, S01's
/// Retry-After of 2 s is 1 s, S07's first token comes after 20 s against a 1 s first-token limit, S09's 30 s silence
/// lasts until the gateway gives up; wall-time bounds are the scenario's, scaled, with a factor 2 of slack for a loaded
/// 2-core machine. S15 (the flapping primary, circuit breaking) is in TargetHealthTests.
/// </summary>
public sealed class FailoverBenchScenarioTests : IAsyncLifetime
{
    private const string Canonical = "A gateway earns trust only when the provider behind it misbehaves, because that is when it must answer anyway.";
    private readonly CapturingSink _sink = new();
    private ScriptedProvider _primary = null!;
    private ScriptedProvider _fallback = null!;

    public async Task InitializeAsync()
    {
        _primary = await ScriptedProvider.StartAsync("fb-primary-upstream");
        _fallback = await ScriptedProvider.StartAsync("fb-ok");
    }

    public async Task DisposeAsync()
    {
        await _primary.DisposeAsync();
        await _fallback.DisposeAsync();
    }

    private GatewayApp Start(bool fallbackPrefill = true, Action<JsonObject>? primary = null)
    {
        var model = new JsonObject
        {
            ["targets"] = new JsonArray(new JsonObject { ["provider"] = "primary", ["model"] = "fb-primary-upstream" }),
            ["retry"] = new JsonObject { ["max_attempts"] = 3 },
            ["timeout_seconds"] = 1,
            ["first_byte_timeout_seconds"] = 1,
            ["deadline_seconds"] = 30,
            ["fallbacks"] = new JsonArray("fb-ok"),
            ["context_window_fallbacks"] = new JsonArray("fb-ok"),
        };
        primary?.Invoke(model);
        var config = new JsonObject
        {
            ["providers"] = new JsonObject
            {
                ["primary"] = new JsonObject { ["type"] = "openai-compatible", ["base_url"] = _primary.BaseUrl },
                ["fallback"] = new JsonObject { ["type"] = "openai-compatible", ["base_url"] = _fallback.BaseUrl, ["prefill"] = fallbackPrefill },
            },
            ["models"] = new JsonObject
            {
                ["fb-primary"] = model,
                ["fb-ok"] = new JsonObject { ["targets"] = new JsonArray(new JsonObject { ["provider"] = "fallback", ["model"] = "fb-ok" }), ["timeout_seconds"] = 1 },
            },
            ["keys"] = new JsonArray(new JsonObject { ["id"] = "alpha", ["hash"] = TestKeys.AlphaHash, ["models"] = new JsonArray("*") }),
        };
        return GatewayApp.Start(config.ToJsonString(), services => services.AddSingleton<LlmProxy.Telemetry.IUsageSink>(_sink));
    }

    // One streamed call as the bench makes it: the text, the finish reason, whether usage came, the model named, the wall time.
    private static async Task<Call> CallAsync(GatewayApp app, string model = "fb-primary")
    {
        var chat = new OpenAIClient(new ApiKeyCredential(TestKeys.Alpha),
            new OpenAIClientOptions { Endpoint = new Uri(app.BaseAddress, "v1"), RetryPolicy = new ClientRetryPolicy(maxRetries: 0) }).GetChatClient(model);
        var clock = Stopwatch.StartNew();
        var text = new StringBuilder();
        ChatFinishReason? finish = null;
        var usage = false;
        string? reported = null;
        try
        {
            await foreach (var update in chat.CompleteChatStreamingAsync([new UserChatMessage("Explain in exactly sixty words why a gateway earns trust.")]))
            {
                foreach (var part in update.ContentUpdate)
                {
                    text.Append(part.Text);
                }

                finish ??= update.FinishReason;
                usage |= update.Usage is not null;
                reported ??= string.IsNullOrEmpty(update.Model) ? null : update.Model;
            }
        }
        catch (ClientResultException error)
        {
            return new Call(text.ToString(), null, usage, reported, clock.Elapsed, error);
        }

        return new Call(text.ToString(), finish, usage, reported, clock.Elapsed, null);
    }

    private async Task AssertAliveAfterAsync(GatewayApp app)
    {
        _fallback.ThenAnswer(Canonical);
        var healthy = await CallAsync(app, "fb-ok");
        Assert.Equal(Canonical, healthy.Text);
    }

    private static int AttemptsWithin(IReadOnlyList<(TimeSpan At, string Body)> received, TimeSpan window)
        => received.Count(r => r.At - received[0].At <= window);

    [Fact]
    public async Task S01_429WithRetryAfter_HonouredWithoutHammering()
    {
        _primary.ThenError(429, "rate_limit_exceeded", "slow down", ("Retry-After", "1")).ThenAnswer(Canonical);
        await using var app = Start();

        var call = await CallAsync(app);

        Assert.Equal(Canonical, call.Text);
        var received = _primary.Received;
        Assert.True(received.Count >= 2);
        Assert.True(received[1].At - received[0].At >= TimeSpan.FromSeconds(0.9), $"gap {(received[1].At - received[0].At).TotalSeconds} s");
        Assert.True(AttemptsWithin(received, TimeSpan.FromSeconds(0.75)) <= 2);
        await AssertAliveAfterAsync(app);
    }

    [Fact]
    public async Task S02_429PersistentWithoutRetryAfter_BackoffThenFallback()
    {
        _primary.ThenError(429, "rate_limit_exceeded", "slow down");
        _fallback.ThenAnswer(Canonical);
        await using var app = Start();

        var call = await CallAsync(app);

        Assert.Equal(Canonical, call.Text);
        Assert.True(_primary.Received.Count <= 6);
        Assert.True(AttemptsWithin(_primary.Received, TimeSpan.FromSeconds(3)) <= 4);
        // Backed off: the retries are not back to back.
        Assert.True(_primary.Received[1].At - _primary.Received[0].At >= TimeSpan.FromMilliseconds(100));
        await AssertAliveAfterAsync(app);
    }

    [Fact]
    public async Task S03_500OnceThenHealthy_RetriedOnTheSameProvider()
    {
        _primary.ThenError(500).ThenAnswer(Canonical);
        await using var app = Start();

        var call = await CallAsync(app);

        Assert.Equal(Canonical, call.Text);
        Assert.Equal(2, _primary.Received.Count);
        Assert.Empty(_fallback.Received);
        await AssertAliveAfterAsync(app);
    }

    [Fact]
    public async Task S04_503Persistent_FailedOverWithinTheBudget()
    {
        _primary.ThenError(503, null, "overloaded");
        _fallback.ThenAnswer(Canonical);
        await using var app = Start();

        var call = await CallAsync(app);

        Assert.Equal(Canonical, call.Text);
        Assert.InRange(_primary.Received.Count, 1, 6);
        await AssertAliveAfterAsync(app);
    }

    [Fact]
    public async Task S05_ResetBeforeHeaders_Answered()
    {
        _primary.ThenReset().ThenAnswer(Canonical);
        await using var app = Start();

        var call = await CallAsync(app);

        Assert.Equal(Canonical, call.Text);
        await AssertAliveAfterAsync(app);
    }

    [Fact]
    public async Task S06_NoResponseAtAll_FailedOverAfterTheFirstTimeoutInsideTheBudget()
    {
        _primary.ThenSilence();
        _fallback.ThenAnswer(Canonical);
        await using var app = Start();

        var call = await CallAsync(app);

        Assert.Equal(Canonical, call.Text);
        Assert.Single(_primary.Received);
        // Budget scaled like the timeout (100 s for 30 s timeouts): well inside it.
        Assert.True(call.Wall < TimeSpan.FromSeconds(2 * 3.3), $"wall {call.Wall.TotalSeconds} s");
        await AssertAliveAfterAsync(app);
    }

    [Fact]
    public async Task S07_SlowFirstToken_TheFirstTokenLimitFailsOver()
    {
        _primary.Then(async context =>
        {
            context.Response.ContentType = "text/event-stream";
            await context.Response.Body.FlushAsync();
            try
            {
                await Task.Delay(TimeSpan.FromSeconds(20), context.RequestAborted);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            await context.Response.WriteAsync("data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"late\"},\"finish_reason\":\"stop\"}]}\n\ndata: [DONE]\n\n");
        });
        _fallback.ThenAnswer(Canonical);
        await using var app = Start(primary: m => m["first_token_timeout_seconds"] = 1);

        var call = await CallAsync(app);

        // The fallback's answer, long before the primary's first token (20 s) would have come.
        Assert.Equal(Canonical, call.Text);
        Assert.True(call.Wall < TimeSpan.FromSeconds(10), $"wall {call.Wall.TotalSeconds} s");
        await AssertAliveAfterAsync(app);
    }

    [Fact]
    public async Task S08_StreamCutMidAnswer_TheWholeAnswerDelivered()
    {
        _primary.ThenStreamCut(false, Canonical[..30], Canonical[30..60]);
        _fallback.ThenContinue(Canonical);
        await using var app = Start();

        var call = await CallAsync(app);

        Assert.Null(call.Error);
        Assert.Equal(Canonical, call.Text);
        Assert.Equal(ChatFinishReason.Stop, call.Finish);
        await AssertAliveAfterAsync(app);
    }

    [Fact]
    public async Task S08_StreamResetMidAnswer_NeverATruncatedSuccess()
    {
        _primary.ThenStreamCut(true, Canonical[..30], Canonical[30..60]);
        _fallback.ThenContinue(Canonical);
        await using var app = Start();

        var call = await CallAsync(app);

        // A reset may take the delivered text with it; whatever arrived, the answer is whole.
        Assert.Null(call.Error);
        Assert.Equal(Canonical, call.Text);
        await AssertAliveAfterAsync(app);
    }

    [Fact]
    public async Task S09_StreamStalls_DetectedInABoundedWindowAndTheAnswerCompleted()
    {
        _primary.ThenStreamStall(Canonical[..20]);
        _fallback.ThenContinue(Canonical);
        await using var app = Start();

        var call = await CallAsync(app);

        Assert.Equal(Canonical, call.Text);
        Assert.True(call.Wall < TimeSpan.FromSeconds(2 * 45 / 30), $"wall {call.Wall.TotalSeconds} s");
        await AssertAliveAfterAsync(app);
    }

    [Fact]
    public async Task S10_MalformedChunk_SkippedAndTheStreamCompletes()
    {
        // The tenth event is not JSON; the other eleven carry the answer.
        var pieces = Enumerable.Range(0, 11).Select(i => Canonical[(i * Canonical.Length / 11)..((i + 1) * Canonical.Length / 11)]).ToArray();
        _primary.ThenStreamWithMalformedEvent(10, pieces);
        await using var app = Start();

        var call = await CallAsync(app);

        Assert.Null(call.Error);
        Assert.Equal(Canonical, call.Text);
        Assert.Equal(ChatFinishReason.Stop, call.Finish);
        await AssertAliveAfterAsync(app);
    }

    [Fact]
    public async Task S11_StreamWithoutDone_FinalisedPromptlyWithUsage()
    {
        _primary.ThenStreamWithoutDone(Canonical);
        await using var app = Start();

        var call = await CallAsync(app);

        Assert.Equal(Canonical, call.Text);
        Assert.Equal(ChatFinishReason.Stop, call.Finish);
        Assert.True(call.Usage);
        Assert.True(call.Wall < TimeSpan.FromSeconds(2), $"wall {call.Wall.TotalSeconds} s");
        await AssertAliveAfterAsync(app);
    }

    [Fact]
    public async Task S12_ContextLengthExceeded_NotRetriedAndRoutedToTheLargerModel()
    {
        _primary.ThenError(400, "context_length_exceeded", "This model's maximum context length is 8192 tokens.");
        _fallback.ThenAnswer(Canonical);
        await using var app = Start();

        var call = await CallAsync(app);

        Assert.Equal(Canonical, call.Text);
        Assert.Single(_primary.Received);
        await AssertAliveAfterAsync(app);
    }

    [Fact]
    public async Task S13_ContentFilterRejection_NotRetriedAndTheReasonPropagated()
    {
        _primary.ThenError(400, "content_policy_violation", "Your request was rejected as a result of our safety system.");
        await using var app = Start();

        var call = await CallAsync(app);

        Assert.NotNull(call.Error);
        Assert.Equal(400, call.Error.Status);
        Assert.Contains("safety system", call.Error.Message, StringComparison.Ordinal);
        Assert.Single(_primary.Received);
        await AssertAliveAfterAsync(app);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task S14_FallbackRejectsPrefill_RestartedCleanlyAndThePrefillErrorNeverShown(bool declaredPrefill)
    {
        _primary.ThenStreamCut(false, Canonical[..30], Canonical[30..60]);
        _fallback.ThenRefusePrefillElseAnswer(Canonical);
        await using var app = Start(fallbackPrefill: declaredPrefill);

        var call = await CallAsync(app);

        Assert.Null(call.Error);
        Assert.Equal(Canonical, call.Text);
        // Declared without prefill, it never gets one; declared with it, it refuses the prefill once and restarts.
        var prefills = _fallback.Received.Count(r => r.Body.Contains("\"role\":\"assistant\"", StringComparison.Ordinal));
        Assert.Equal(declaredPrefill ? 1 : 0, prefills);
        Assert.Equal(declaredPrefill ? 2 : 1, _fallback.Received.Count);
        await AssertAliveAfterAsync(app);
    }

    [Fact]
    public async Task S16_FailOverAccounting_TheFallbacksModelAndUsage()
    {
        _primary.ThenError(503, null, "overloaded");
        _fallback.ThenAnswer(Canonical);
        await using var app = Start();

        var call = await CallAsync(app);

        Assert.Equal(Canonical, call.Text);
        Assert.Equal("fb-ok", call.Model);
        Assert.True(call.Usage);
        Assert.True(_primary.Received.Count <= 6);
        // Billed: the fallback's answer only (10 + 5), under the model that answered.
        var record = await _sink.NextAsync();
        Assert.Equal(new LlmProxy.Usage.TokenUsage(10, 5, 0, 0, false), record.Usage);
        Assert.Equal("fb-ok", record.Model);
        await AssertAliveAfterAsync(app);
    }

    private sealed record Call(string Text, ChatFinishReason? Finish, bool Usage, string? Model, TimeSpan Wall, ClientResultException? Error);
}
