using System.Text;
using System.Text.Json;
using LlmProxy.Failover;

namespace LlmProxy.Tests.Failover;

public sealed class StreamSplicerTests
{
    private static StreamTranscript Delivered(string text)
    {
        var transcript = new StreamTranscript();
        transcript.Identify("chatcmpl-first", "first-model", 42);
        transcript.Append(Encoding.UTF8.GetBytes(text));
        return transcript;
    }

    private static string Chunk(string? content, string? finish = null, string id = "chatcmpl-second")
        => "data: " + JsonSerializer.Serialize(new
        {
            id,
            @object = "chat.completion.chunk",
            created = 7,
            model = "second-model",
            choices = new[] { new { index = 0, delta = content is null ? (object)new { role = "assistant" } : new { content }, finish_reason = finish } },
        }) + "\n\n";

    private static async Task<(string Client, StreamSplicer Splicer, Exception? Error)> SpliceAsync(StreamTranscript transcript, bool restart, string trimmed, params string[] writes)
    {
        using var client = new MemoryStream();
        var splicer = new StreamSplicer(client, transcript, restart, Encoding.UTF8.GetBytes(trimmed));
        Exception? error = null;
        try
        {
            foreach (var write in writes)
            {
                await splicer.WriteAsync(Encoding.UTF8.GetBytes(write));
            }
        }
        catch (IOException ex)
        {
            error = ex;
        }

        return (Encoding.UTF8.GetString(client.ToArray()), splicer, error);
    }

    private static string TextOf(string sse)
        => string.Concat(sse.Split("\n\n").Where(e => e.StartsWith("data: {", StringComparison.Ordinal))
            .Select(e => JsonDocument.Parse(e[6..]).RootElement)
            .Where(e => e.TryGetProperty("choices", out var c) && c.GetArrayLength() > 0)
            .Select(e => e.GetProperty("choices")[0].GetProperty("delta").TryGetProperty("content", out var t) ? t.GetString() : ""));

    [Fact]
    public async Task Write_Prefill_RoleDroppedTextPassedUnderTheFirstChunksIdentity()
    {
        var transcript = Delivered("The gateway ");

        var (client, splicer, error) = await SpliceAsync(transcript, restart: false, trimmed: " ",
            Chunk(null), Chunk(" earns"), Chunk(" trust."), Chunk("", "stop"), "data: [DONE]\n\n");

        Assert.Null(error);
        Assert.Equal("earns trust.", TextOf(client));
        Assert.DoesNotContain("chatcmpl-second", client, StringComparison.Ordinal);
        Assert.Contains("\"id\":\"chatcmpl-first\"", client, StringComparison.Ordinal);
        Assert.Contains("\"model\":\"first-model\"", client, StringComparison.Ordinal);
        Assert.Contains("\"finish_reason\":\"stop\"", client, StringComparison.Ordinal);
        Assert.EndsWith("data: [DONE]\n\n", client, StringComparison.Ordinal);
        Assert.True(splicer.Ended);
        Assert.Equal("The gateway earns trust.", Encoding.UTF8.GetString(transcript.Text));
    }

    [Fact]
    public async Task Write_RestartRepeatingWhatWasDelivered_OnlyWhatFollowsPasses()
    {
        var transcript = Delivered("The gateway earns");

        var (client, _, error) = await SpliceAsync(transcript, restart: true, trimmed: "",
            Chunk(null), Chunk("The gate"), Chunk("way earns tr"), Chunk("ust."), Chunk("", "stop"), "data: [DONE]\n\n");

        Assert.Null(error);
        Assert.Equal(" trust.", TextOf(client));
    }

    [Fact]
    public async Task Write_RestartThatDiffers_ErrorEventAndTheCopyStopped()
    {
        var transcript = Delivered("The gateway earns");

        var (client, splicer, error) = await SpliceAsync(transcript, restart: true, trimmed: "", Chunk("The proxy"), Chunk(" is great"));

        Assert.IsType<IOException>(error);
        Assert.True(splicer.Diverged);
        Assert.Equal("", TextOf(client));
        Assert.Contains("\"code\":\"upstream_error\"", client, StringComparison.Ordinal);
        Assert.DoesNotContain("[DONE]", client, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Write_RestartShorterThanWhatWasDelivered_Diverges()
    {
        var (_, splicer, error) = await SpliceAsync(Delivered("The gateway earns"), restart: true, trimmed: "", Chunk("The gate", "stop"));

        Assert.NotNull(error);
        Assert.True(splicer.Diverged);
    }

    [Fact]
    public async Task Write_EventSplitAcrossWrites_HandledWhole()
    {
        var chunk = Chunk(" earns");

        var (client, _, _) = await SpliceAsync(Delivered("The gateway"), restart: false, trimmed: "", chunk[..10], chunk[10..]);

        Assert.Equal(" earns", TextOf(client));
    }

    [Fact]
    public async Task Write_ContinuationStartsWithTheTrimmedWhitespace_NotRepeated()
    {
        var (client, _, _) = await SpliceAsync(Delivered("The gateway "), restart: false, trimmed: " ", Chunk(" earns"));

        Assert.Equal("earns", TextOf(client));
    }

    [Fact]
    public async Task Write_ErrorEventOfTheContinuation_PassedAndEnds()
    {
        var (client, splicer, _) = await SpliceAsync(Delivered("x"), restart: false, trimmed: "", "data: {\"error\":{\"message\":\"m\",\"type\":\"server_error\",\"param\":null,\"code\":null}}\n\n");

        Assert.Contains("\"error\"", client, StringComparison.Ordinal);
        Assert.True(splicer.Ended);
    }

    [Fact]
    public async Task Write_ToolCallsInTheContinuation_Diverges()
    {
        const string toolCall = "data: {\"id\":\"c\",\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"id\":\"t\",\"function\":{\"name\":\"f\",\"arguments\":\"\"}}]},\"finish_reason\":null}]}\n\n";

        var (_, splicer, _) = await SpliceAsync(Delivered("x"), restart: false, trimmed: "", toolCall);

        Assert.True(splicer.Diverged);
    }
}
