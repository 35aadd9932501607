using System.ClientModel;
using LlmProxy.IntegrationTests.Infrastructure;
using OpenAI;
using OpenAI.Chat;

namespace LlmProxy.IntegrationTests.Hosting;

/// <summary>The official OpenAI .NET SDK against the gateway running the repository's default config (no provider keys, no Redis).</summary>
public sealed class OpenAISdkTests : IAsyncLifetime
{
    private const string DemoKey = "sk-llmproxy-demo";
    private GatewayApp _app = null!;
    private OpenAIClient _client = null!;

    public Task InitializeAsync()
    {
        _app = GatewayApp.StartWithPath(RepoPaths.DefaultConfig);
        _client = new OpenAIClient(new ApiKeyCredential(DemoKey), new OpenAIClientOptions { Endpoint = new Uri(_app.BaseAddress, "v1") });
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _app.DisposeAsync();

    [Fact]
    public async Task CompleteChat_DemoModel_ReturnsTextAndUsage()
    {
        ChatCompletion completion = await _client.GetChatClient("demo-fast").CompleteChatAsync([new UserChatMessage("Hello gateway")]);

        Assert.False(string.IsNullOrWhiteSpace(completion.Content[0].Text));
        Assert.Equal(ChatFinishReason.Stop, completion.FinishReason);
        Assert.True(completion.Usage.InputTokenCount > 0);
        Assert.Equal(completion.Usage.InputTokenCount + completion.Usage.OutputTokenCount, completion.Usage.TotalTokenCount);
    }

    [Fact]
    public async Task CompleteChatStreaming_DemoModel_StreamsTheSameTextAsNonStreaming()
    {
        var chat = _client.GetChatClient("demo-fast");
        ChatCompletion whole = await chat.CompleteChatAsync([new UserChatMessage("Stream please")]);
        var streamed = new System.Text.StringBuilder();
        var updates = 0;
        ChatTokenUsage? usage = null;

        await foreach (var update in chat.CompleteChatStreamingAsync([new UserChatMessage("Stream please")], new ChatCompletionOptions()))
        {
            updates++;
            foreach (var part in update.ContentUpdate)
            {
                streamed.Append(part.Text);
            }

            usage ??= update.Usage;
        }

        Assert.True(updates > 3);
        Assert.Equal(whole.Content[0].Text, streamed.ToString());
    }

    [Fact]
    public async Task CompleteChat_AliasOfDemoChat_Works()
    {
        ChatCompletion completion = await _client.GetChatClient("demo").CompleteChatAsync([new UserChatMessage("hi")]);

        Assert.Equal("demo-chat", completion.Model);
    }

    [Fact]
    public async Task GenerateEmbedding_DemoModel_ReturnsVector()
    {
        var embedding = await _client.GetEmbeddingClient("demo-embedding").GenerateEmbeddingAsync("vectors please");

        var vector = embedding.Value.ToFloats();
        Assert.Equal(256, vector.Length);
        Assert.InRange(Math.Sqrt(vector.ToArray().Sum(v => (double)v * v)), 0.999, 1.001);
    }

    [Fact]
    public async Task GetModels_DemoKey_ListsTheDemoModels()
    {
        var models = await _client.GetOpenAIModelClient().GetModelsAsync();

        var ids = models.Value.Select(m => m.Id).ToList();
        Assert.Contains("demo-chat", ids);
        Assert.Contains("demo-fast", ids);
        Assert.Contains("demo-embedding", ids);
    }

    [Fact]
    public async Task CompleteChat_UnknownModel_SdkSeesStatus404()
    {
        var thrown = await Assert.ThrowsAsync<ClientResultException>(() => _client.GetChatClient("no-such-model").CompleteChatAsync([new UserChatMessage("hi")]));

        Assert.Equal(404, thrown.Status);
        Assert.Contains("model_not_found", thrown.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CompleteChat_WrongKey_SdkSeesStatus401()
    {
        var wrong = new OpenAIClient(new ApiKeyCredential("sk-wrong"), new OpenAIClientOptions { Endpoint = new Uri(_app.BaseAddress, "v1") });

        var thrown = await Assert.ThrowsAsync<ClientResultException>(() => wrong.GetChatClient("demo-fast").CompleteChatAsync([new UserChatMessage("hi")]));

        Assert.Equal(401, thrown.Status);
    }
}
