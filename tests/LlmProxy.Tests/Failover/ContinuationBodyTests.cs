using System.Text;
using System.Text.Json;
using LlmProxy.Failover;

namespace LlmProxy.Tests.Failover;

public sealed class ContinuationBodyTests
{
    [Fact]
    public void Prefill_ChatRequest_DeliveredTextAsTheLastAssistantMessageWithoutTrailingWhitespace()
    {
        var body = Encoding.UTF8.GetBytes("""{"model":"m","n":1,"stream":true,"messages":[{"role":"user","content":"hi"}]}""");

        var continued = ContinuationBody.Prefill(body, "Hello there, \n"u8, out var trimmed);

        Assert.NotNull(continued);
        using var document = JsonDocument.Parse(continued.Value);
        var messages = document.RootElement.GetProperty("messages");
        Assert.Equal(2, messages.GetArrayLength());
        Assert.Equal("assistant", messages[1].GetProperty("role").GetString());
        Assert.Equal("Hello there,", messages[1].GetProperty("content").GetString());
        Assert.Equal(" \n", Encoding.UTF8.GetString(trimmed));
        Assert.False(document.RootElement.TryGetProperty("n", out _));
        Assert.True(document.RootElement.GetProperty("stream").GetBoolean());
    }

    [Theory]
    [InlineData("""{"model":"m","prompt":"hi"}""")]
    [InlineData("""[1,2]""")]
    [InlineData("""not json""")]
    public void Prefill_NoMessages_Null(string json)
        => Assert.Null(ContinuationBody.Prefill(Encoding.UTF8.GetBytes(json), "x"u8, out _));
}
