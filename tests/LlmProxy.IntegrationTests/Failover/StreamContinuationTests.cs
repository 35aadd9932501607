using System.ClientModel;
using System.ClientModel.Primitives;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using LlmProxy.IntegrationTests.Infrastructure;
using LlmProxy.Telemetry;
using Microsoft.Extensions.DependencyInjection;
using OpenAI;
using OpenAI.Chat;

namespace LlmProxy.IntegrationTests.Failover;

/// <summary>Streams whose provider fails after part of the answer reached the client, continued elsewhere into one answer.</summary>
public sealed class StreamContinuationTests : IAsyncLifetime
{
    private const string Delivered = "The gateway earns trust ";
    private const string Rest = "when the provider misbehaves.";
    private readonly CapturingSink _sink = new();
    private ScriptedProvider _primary = null!;
    private ScriptedProvider _backup = null!;

    public async Task InitializeAsync()
    {
        _primary = await ScriptedProvider.StartAsync("upstream-model");
        _backup = await ScriptedProvider.StartAsync("backup-upstream");
    }

    public async Task DisposeAsync()
    {
        await _primary.DisposeAsync();
        await _backup.DisposeAsync();
    }

    private GatewayApp Start(bool backupPrefill = true, double idleSeconds = 30)
    {
        var config = new JsonObject
        {
            ["providers"] = new JsonObject
            {
                ["primary"] = new JsonObject { ["type"] = "openai-compatible", ["base_url"] = _primary.BaseUrl },
                ["backup"] = new JsonObject { ["type"] = "openai-compatible", ["base_url"] = _backup.BaseUrl, ["prefill"] = backupPrefill },
            },
            ["models"] = new JsonObject
            {
                ["test-model"] = new JsonObject
                {
                    ["targets"] = new JsonArray(new JsonObject { ["provider"] = "primary", ["model"] = "upstream-model" }),
                    ["timeout_seconds"] = idleSeconds,
                    ["retry"] = new JsonObject { ["max_attempts"] = 2, ["backoff_ms"] = 10 },
                    ["fallbacks"] = new JsonArray("backup-model"),
                },
                ["backup-model"] = new JsonObject { ["targets"] = new JsonArray(new JsonObject { ["provider"] = "backup", ["model"] = "backup-upstream" }) },
            },
            ["keys"] = new JsonArray(new JsonObject { ["id"] = "alpha", ["hash"] = TestKeys.AlphaHash, ["models"] = new JsonArray("*") }),
        };
        return GatewayApp.Start(config.ToJsonString(), services => services.AddSingleton<IUsageSink>(_sink));
    }

    private static async Task<(string Text, ChatFinishReason? Finish)> StreamAsync(GatewayApp app)
    {
        var chat = new OpenAIClient(new ApiKeyCredential(TestKeys.Alpha),
            new OpenAIClientOptions { Endpoint = new Uri(app.BaseAddress, "v1"), RetryPolicy = new ClientRetryPolicy(maxRetries: 0) }).GetChatClient("test-model");
        var text = new StringBuilder();
        ChatFinishReason? finish = null;
        await foreach (var update in chat.CompleteChatStreamingAsync([new UserChatMessage("Explain in sixty words.")]))
        {
            foreach (var part in update.ContentUpdate)
            {
                text.Append(part.Text);
            }

            finish ??= update.FinishReason;
        }

        return (text.ToString(), finish);
    }

    private static async Task<string> RawStreamAsync(GatewayApp app)
    {
        using var client = app.CreateClient();
        client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", TestKeys.Alpha);
        using var response = await client.PostJsonAsync("/v1/chat/completions", """{"model":"test-model","stream":true,"messages":[{"role":"user","content":"Explain in sixty words."}]}""");
        return await response.Content.ReadAsStringAsync();
    }

    private static JsonElement LastMessage(string body)
    {
        var messages = JsonDocument.Parse(body).RootElement.GetProperty("messages");
        return messages[messages.GetArrayLength() - 1].Clone();
    }

    [Fact]
    public async Task Stream_CutMidAnswer_ContinuedWithAPrefillIntoOneAnswer()
    {
        _primary.ThenStreamCut(false, "The gateway ", "earns trust ");
        _backup.ThenAnswer(Rest);
        await using var app = Start();

        var (text, finish) = await StreamAsync(app);

        Assert.Equal(Delivered + Rest, text);
        Assert.Equal(ChatFinishReason.Stop, finish);
        // The backup got the conversation plus what the client already had, without its trailing space.
        var prefill = LastMessage(Assert.Single(_backup.Received).Body);
        Assert.Equal("assistant", prefill.GetProperty("role").GetString());
        Assert.Equal(Delivered.TrimEnd(), prefill.GetProperty("content").GetString());
    }

    [Fact]
    public async Task Stream_StallsMidAnswer_DetectedByTheIdleTimeoutAndContinued()
    {
        _primary.ThenStreamStall("The gateway ", "earns trust ");
        _backup.ThenAnswer(Rest);
        await using var app = Start(idleSeconds: 0.5);

        var (text, finish) = await StreamAsync(app);

        Assert.Equal(Delivered + Rest, text);
        Assert.Equal(ChatFinishReason.Stop, finish);
    }

    [Fact]
    public async Task Stream_FallbackWithoutPrefill_RestartedAnswerSplicedAfterWhatWasDelivered()
    {
        _primary.ThenStreamCut(false, "The gateway ", "earns trust ");
        _backup.ThenAnswer(Delivered + Rest);
        await using var app = Start(backupPrefill: false);

        var (text, finish) = await StreamAsync(app);

        Assert.Equal(Delivered + Rest, text);
        Assert.Equal(ChatFinishReason.Stop, finish);
        Assert.Equal("user", LastMessage(Assert.Single(_backup.Received).Body).GetProperty("role").GetString());
    }

    [Fact]
    public async Task Stream_FallbackRefusesThePrefill_RestartedAndTheRefusalNeverReachesTheClient()
    {
        _primary.ThenStreamCut(false, "The gateway ", "earns trust ");
        _backup.ThenRefusePrefillElseAnswer(Delivered + Rest);
        await using var app = Start(backupPrefill: true);

        var (text, finish) = await StreamAsync(app);

        Assert.Equal(Delivered + Rest, text);
        Assert.Equal(ChatFinishReason.Stop, finish);
        Assert.Equal(2, _backup.Received.Count);
    }

    [Fact]
    public async Task Stream_RestartedAnswerDiffers_EndsWithAnErrorEventAndNoDone()
    {
        _primary.ThenStreamCut(false, "The gateway ", "earns trust ");
        _backup.ThenAnswer("Something else entirely, which contradicts the client.");
        await using var app = Start(backupPrefill: false);

        var body = await RawStreamAsync(app);

        Assert.Contains("earns trust ", body, StringComparison.Ordinal);
        Assert.DoesNotContain("contradicts", body, StringComparison.Ordinal);
        Assert.Contains("\"code\":\"upstream_error\"", body, StringComparison.Ordinal);
        Assert.DoesNotContain("[DONE]", body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Stream_NoTargetCanContinue_EndsWithTheProviderErrorEventAndNoDone()
    {
        _primary.ThenStreamCut(false, "The gateway ", "earns trust ");
        _backup.ThenError(503);
        await using var app = Start();

        var body = await RawStreamAsync(app);

        Assert.Contains("earns trust ", body, StringComparison.Ordinal);
        Assert.Contains("no finish reason", body, StringComparison.Ordinal);
        Assert.DoesNotContain("[DONE]", body, StringComparison.Ordinal);
        Assert.DoesNotContain("finish_reason\":\"stop", body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Stream_Continued_OneRecordWithTheChunksIdAndBothAttemptsCharged()
    {
        _primary.ThenStreamCut(false, "The gateway ", "earns trust ");
        _backup.ThenAnswer(Rest);
        await using var app = Start();

        var body = await RawStreamAsync(app);

        // Every chunk the client got carries the first one's id.
        var ids = body.Split("\n\n").Where(e => e.StartsWith("data: {", StringComparison.Ordinal) && e.Contains("\"choices\":[{", StringComparison.Ordinal))
            .Select(e => JsonDocument.Parse(e[6..]).RootElement.GetProperty("id").GetString()).Distinct().ToArray();
        Assert.Equal(new string?[] { "chatcmpl-upstream-model" }, ids);
        var record = await _sink.NextAsync();
        Assert.Equal(200, record.Status);
        Assert.Equal(ErrorCategory.None, record.Error);
        // The cut attempt is estimated; the continuation reported 10 + 5.
        Assert.True(record.Usage!.Value.Total > 15);
    }
}
