using System.ClientModel;
using System.ClientModel.Primitives;
using System.Net;
using System.Text.Json.Nodes;
using LlmProxy.IntegrationTests.Infrastructure;
using LlmProxy.Telemetry;
using Microsoft.Extensions.DependencyInjection;
using OpenAI;
using OpenAI.Chat;

namespace LlmProxy.IntegrationTests.Failover;

/// <summary>The attempt loop against scripted provider faults, through the official OpenAI SDK with its own retries off.</summary>
public sealed class FailoverTests : IAsyncLifetime
{
    private readonly CapturingSink _sink = new();
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

    // test-model on the primary (and the second provider when asked), with backup-model as its fallback when asked.
    private GatewayApp Start(bool secondTarget = false, bool fallback = true, Action<JsonObject>? model = null, Action<JsonObject>? configEdit = null)
    {
        var targets = new JsonArray(new JsonObject { ["provider"] = "primary", ["model"] = "upstream-model" });
        if (secondTarget)
        {
            targets.Add(new JsonObject { ["provider"] = "second", ["model"] = "second-upstream" });
        }

        var testModel = new JsonObject
        {
            ["targets"] = targets,
            ["retry"] = new JsonObject { ["max_attempts"] = 3, ["backoff_ms"] = 50, ["max_backoff_ms"] = 2000 },
        };
        if (fallback)
        {
            testModel["fallbacks"] = new JsonArray("backup-model");
        }

        model?.Invoke(testModel);
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
        configEdit?.Invoke(config);
        return GatewayApp.Start(config.ToJsonString(), services => services.AddSingleton<IUsageSink>(_sink));
    }

    // As Start(), with a change to the whole config.
    private GatewayApp StartWith(Action<JsonObject> edit) => Start(configEdit: edit);

    private static ChatClient Chat(GatewayApp app) => new OpenAIClient(new ApiKeyCredential(TestKeys.Alpha),
        new OpenAIClientOptions { Endpoint = new Uri(app.BaseAddress, "v1"), RetryPolicy = new ClientRetryPolicy(maxRetries: 0) }).GetChatClient("test-model");

    private static string Header(PipelineResponse response, string name) => response.Headers.TryGetValue(name, out var value) ? value! : "";

    [Fact]
    public async Task CompleteChat_500ThenHealthy_RetriedOnTheSameProviderAndAnswered()
    {
        _primary.ThenError(500).ThenAnswer("Recovered.");
        await using var app = Start(fallback: false);

        var result = await Chat(app).CompleteChatAsync([new UserChatMessage("hi")]);

        Assert.Equal("Recovered.", result.Value.Content[0].Text);
        Assert.Equal(2, _primary.Received.Count);
        Assert.Equal("2", Header(result.GetRawResponse(), "x-llmproxy-attempts"));
        Assert.Equal("test-model", Header(result.GetRawResponse(), "x-llmproxy-model"));
        // The failed attempt is not billed: only the answer's usage.
        Assert.Equal(15, (await _sink.NextAsync()).Usage!.Value.Total);
    }

    [Fact]
    public async Task CompleteChat_429WithRetryAfterMs_WaitsAsAskedThenAnswers()
    {
        _primary.ThenError(429, "rate_limit_exceeded", "slow down", ("retry-after-ms", "400")).ThenAnswer("After the wait.");
        await using var app = Start(fallback: false);

        var result = await Chat(app).CompleteChatAsync([new UserChatMessage("hi")]);

        Assert.Equal("After the wait.", result.Value.Content[0].Text);
        var received = _primary.Received;
        Assert.Equal(2, received.Count);
        // Timers may fire a tick early: 5% of slack.
        Assert.True(received[1].At - received[0].At >= TimeSpan.FromMilliseconds(380), $"retried after {(received[1].At - received[0].At).TotalMilliseconds} ms");
    }

    [Fact]
    public async Task CompleteChat_429WithRetryAfter_OtherTargetAtOnceAndTheThrottledOneKeptOut()
    {
        _primary.ThenError(429, "rate_limit_exceeded", "slow down", ("retry-after", "30"));
        await using var app = Start(secondTarget: true, fallback: false, model: m => m["targets"]![0]!["weight"] = 1_000_000);

        var first = await Chat(app).CompleteChatAsync([new UserChatMessage("hi")]);
        var second = await Chat(app).CompleteChatAsync([new UserChatMessage("again")]);

        Assert.Equal("second-upstream", first.Value.Model);
        Assert.Equal("second-upstream", second.Value.Model);
        // The primary asked for 30 s: the next request never went there.
        Assert.Single(_primary.Received);
        Assert.Equal(2, _second.Received.Count);
    }

    [Fact]
    public async Task CompleteChat_503Persistent_BoundedAttemptsThenTheFallbackAnswersAndIsReported()
    {
        _primary.ThenError(503, null, "overloaded");
        await using var app = Start();

        var result = await Chat(app).CompleteChatAsync([new UserChatMessage("hi")]);

        Assert.Equal("backup-upstream", result.Value.Model);
        Assert.Equal("backup-model", Header(result.GetRawResponse(), "x-llmproxy-model"));
        Assert.Equal("4", Header(result.GetRawResponse(), "x-llmproxy-attempts"));
        Assert.Equal(3, _primary.Received.Count);
        Assert.Single(_backup.Received);
        Assert.Contains("\"model\":\"backup-upstream\"", _backup.Received[0].Body, StringComparison.Ordinal);
        var record = await _sink.NextAsync();
        Assert.Equal("backup-model", record.Model);
        Assert.Equal("test-model", record.RequestModel);
        Assert.Equal("backup", record.Provider);
        Assert.Equal(15, record.Usage!.Value.Total);
        Assert.Equal(200, record.Status);
    }

    [Fact]
    public async Task CompleteChat_503PersistentWithoutFallback_TheProvidersErrorAfterTheBudget()
    {
        _primary.ThenError(503, "overloaded", "the provider is overloaded");
        await using var app = Start(fallback: false);
        using var client = app.CreateClient();
        client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", TestKeys.Alpha);

        using var response = await client.PostJsonAsync("/v1/chat/completions", """{"model":"test-model","messages":[{"role":"user","content":"hi"}]}""");

        var error = await OpenAIError.AssertAsync(response, 503, "invalid_request_error", "overloaded");
        Assert.Equal("the provider is overloaded", error.GetProperty("message").GetString());
        Assert.Equal(3, _primary.Received.Count);
        Assert.Equal("3", response.Headers.GetValues("x-llmproxy-attempts").Single());
        var received = _primary.Received;
        // Backoff with jitter: at least half of 50 ms, then of 100 ms.
        Assert.True(received[1].At - received[0].At >= TimeSpan.FromMilliseconds(23));
        Assert.True(received[2].At - received[1].At >= TimeSpan.FromMilliseconds(47));
    }

    [Fact]
    public async Task CompleteChat_ResetBeforeHeaders_RetriedAndAnswered()
    {
        _primary.ThenReset().ThenAnswer("After the reset.");
        await using var app = Start(fallback: false);

        var result = await Chat(app).CompleteChatAsync([new UserChatMessage("hi")]);

        Assert.Equal("After the reset.", result.Value.Content[0].Text);
        Assert.Equal(2, _primary.Received.Count);
    }

    [Fact]
    public async Task CompleteChat_SilentProviderPastFirstByteTimeout_FallbackAfterOneAttempt()
    {
        _primary.ThenSilence();
        await using var app = Start(model: m => m["first_byte_timeout_seconds"] = 0.5);

        var result = await Chat(app).CompleteChatAsync([new UserChatMessage("hi")]);

        Assert.Equal("backup-upstream", result.Value.Model);
        // A silent route is not tried again: waiting on it again only multiplies the wait.
        Assert.Single(_primary.Received);
    }

    [Fact]
    public async Task CompleteChat_SilentProviderPastItsOwnFirstByteTimeout_FallbackAfterOneAttempt()
    {
        _primary.ThenSilence();
        await using var app = StartWith(config => config["providers"]!["primary"]!["first_byte_timeout_seconds"] = 0.5);

        var result = await Chat(app).CompleteChatAsync([new UserChatMessage("hi")]);

        Assert.Equal("backup-upstream", result.Value.Model);
        Assert.Single(_primary.Received);
    }

    [Fact]
    public async Task CompleteChat_SilentProviderNoFallback_504WhenTheFirstByteTimeoutPasses()
    {
        _primary.ThenSilence();
        await using var app = Start(fallback: false, model: m => m["first_byte_timeout_seconds"] = 0.3);
        using var client = app.CreateClient();
        client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", TestKeys.Alpha);

        using var response = await client.PostJsonAsync("/v1/chat/completions", """{"model":"test-model","messages":[{"role":"user","content":"hi"}]}""");

        await OpenAIError.AssertAsync(response, 504, "server_error", "upstream_timeout");
        Assert.Single(_primary.Received);
    }

    [Fact]
    public async Task CompleteChat_DeadlinePasses_504AndNoFurtherAttempt()
    {
        _primary.ThenSilence();
        await using var app = Start(model: m => m["deadline_seconds"] = 0.5);
        using var client = app.CreateClient();
        client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", TestKeys.Alpha);

        using var response = await client.PostJsonAsync("/v1/chat/completions", """{"model":"test-model","messages":[{"role":"user","content":"hi"}]}""");

        await OpenAIError.AssertAsync(response, 504, "server_error", "upstream_timeout");
        Assert.Single(_primary.Received);
        Assert.Empty(_backup.Received);
    }

    [Fact]
    public async Task CompleteChat_ContextLengthExceeded_ContextWindowFallbackAndTheModelNotRetried()
    {
        _primary.ThenError(400, "context_length_exceeded", "This model's maximum context length is 8192 tokens.");
        await using var app = Start(fallback: false, model: m => m["context_window_fallbacks"] = new JsonArray("backup-model"));

        var result = await Chat(app).CompleteChatAsync([new UserChatMessage("a very long prompt")]);

        Assert.Equal("backup-upstream", result.Value.Model);
        Assert.Single(_primary.Received);
        Assert.Single(_backup.Received);
    }

    [Fact]
    public async Task CompleteChat_ContentPolicyViolation_NotRetriedAndTheProvidersReasonPassedOn()
    {
        _primary.ThenError(400, "content_policy_violation", "Your request was rejected by the safety system.");
        await using var app = Start();

        var error = await Assert.ThrowsAsync<ClientResultException>(() => Chat(app).CompleteChatAsync([new UserChatMessage("hi")]));

        Assert.Equal(400, error.Status);
        Assert.Contains("rejected by the safety system", error.Message, StringComparison.Ordinal);
        Assert.Single(_primary.Received);
        Assert.Empty(_backup.Received);
    }

    [Fact]
    public async Task CompleteChat_OneOfTwoTargetsFails_TheOtherAnswersAtOnce()
    {
        _primary.ThenError(502);
        await using var app = Start(secondTarget: true, fallback: false, model: m => m["targets"]![0]!["weight"] = 1_000_000);

        var result = await Chat(app).CompleteChatAsync([new UserChatMessage("hi")]);

        Assert.Equal("second-upstream", result.Value.Model);
        Assert.Single(_primary.Received);
        Assert.Single(_second.Received);
    }

    [Fact]
    public async Task CompleteChatStreaming_500BeforeTheStream_RetriedAndTheWholeStreamArrives()
    {
        _primary.ThenError(500).ThenAnswer("Streamed after a retry.");
        await using var app = Start(fallback: false);

        var text = new System.Text.StringBuilder();
        ChatFinishReason? finish = null;
        await foreach (var update in Chat(app).CompleteChatStreamingAsync([new UserChatMessage("hi")]))
        {
            foreach (var part in update.ContentUpdate)
            {
                text.Append(part.Text);
            }

            finish ??= update.FinishReason;
        }

        Assert.Equal("Streamed after a retry.", text.ToString());
        Assert.Equal(ChatFinishReason.Stop, finish);
        Assert.Equal(2, _primary.Received.Count);
    }

    [Fact]
    public async Task CompleteChat_EveryAttempt_CountedByOutcome()
    {
        _primary.ThenError(503).ThenAnswer();
        await using var app = Start(fallback: false);
        using var attempts = new Microsoft.Extensions.Diagnostics.Metrics.Testing.MetricCollector<long>(
            app.Services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>(), LlmProxyMetrics.MeterName, "llmproxy.attempts");

        await Chat(app).CompleteChatAsync([new UserChatMessage("hi")]);

        var outcomes = attempts.GetMeasurementSnapshot().Select(m => (string?)m.Tags["outcome"]).ToArray();
        Assert.Equal(new string?[] { "server_error", "answered" }, outcomes);
    }

    [Fact]
    public async Task CompleteChatStreaming_FirstTokenLate_FailedOverBeforeAnythingWasSent()
    {
        _primary.ThenStreamStall();
        _backup.ThenAnswer("From the backup.");
        await using var app = Start(model: m => m["first_token_timeout_seconds"] = 0.5);

        var text = new System.Text.StringBuilder();
        await foreach (var update in Chat(app).CompleteChatStreamingAsync([new UserChatMessage("hi")]))
        {
            foreach (var part in update.ContentUpdate)
            {
                text.Append(part.Text);
            }
        }

        Assert.Equal("From the backup.", text.ToString());
        Assert.Single(_primary.Received);
        Assert.Single(_backup.Received);
    }

    [Fact]
    public async Task Embeddings_ModelWithAnAnthropicAndAnOpenAITarget_TheTargetThatCanTakeItAnswers()
    {
        var config = JsonNode.Parse($$"""
            {
              "providers": {
                "claude": { "type": "anthropic", "base_url": "{{_second.BaseUrl[..^3]}}", "api_key": "{{TestKeys.ProviderKeyReference}}" },
                "primary": { "type": "openai-compatible", "base_url": "{{_primary.BaseUrl}}" }
              },
              "models": {
                "test-model": { "targets": [ { "provider": "claude", "model": "claude-x", "weight": 1000000 }, { "provider": "primary", "model": "upstream-model" } ] }
              },
              "keys": [ { "id": "alpha", "hash": "{{TestKeys.AlphaHash}}", "models": [ "*" ] } ]
            }
            """)!;
        await using var app = GatewayApp.Start(config.ToJsonString());
        using var client = app.CreateClient();
        client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", TestKeys.Alpha);

        using var response = await client.PostJsonAsync("/v1/embeddings", """{"model":"test-model","input":"hello"}""");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Empty(_second.Received);
        Assert.Single(_primary.Received);
    }

    [Fact]
    public async Task CompleteChat_RetriedRequests_AdmittedOnceByTheRateLimit()
    {
        _primary.ThenError(503).ThenAnswer().ThenError(503).ThenAnswer();
        await using var app = StartWith(config => config["keys"]![0]!["limits"] = new JsonObject { ["requests_per_minute"] = 2 });

        var first = await Chat(app).CompleteChatAsync([new UserChatMessage("one")]);
        var second = await Chat(app).CompleteChatAsync([new UserChatMessage("two")]);
        var third = await Assert.ThrowsAsync<ClientResultException>(() => Chat(app).CompleteChatAsync([new UserChatMessage("three")]));

        // Four attempts, two client requests: the limit of two requests a minute is reached only by the third.
        Assert.Equal("2", Header(first.GetRawResponse(), "x-llmproxy-attempts"));
        Assert.Equal("2", Header(second.GetRawResponse(), "x-llmproxy-attempts"));
        Assert.Equal(429, third.Status);
        Assert.Equal(4, _primary.Received.Count);
    }

    [Fact]
    public async Task CompleteChat_ModelWithOneAttempt_TheProvidersErrorAsItCame()
    {
        _primary.ThenError(503, "overloaded", "busy");
        await using var app = Start(fallback: false, model: m => m["retry"] = new JsonObject { ["max_attempts"] = 1 });

        var error = await Assert.ThrowsAsync<ClientResultException>(() => Chat(app).CompleteChatAsync([new UserChatMessage("hi")]));

        Assert.Equal(503, error.Status);
        Assert.Single(_primary.Received);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (HttpStatusCode)error.GetRawResponse()!.Status);
    }
}
