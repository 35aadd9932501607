using System.Text;
using System.Text.Json;
using LlmProxy.Streaming;

namespace LlmProxy.Tests.Streaming;

public sealed class SseFramesTests
{
    [Theory]
    [InlineData(false, "data: {\"a\":1}\n\n")]
    [InlineData(true, "\n\ndata: {\"a\":1}\n\n")]
    public void Error_Json_OneDataEvent(bool endOpenEvent, string expected)
        => Assert.Equal(expected, Encoding.UTF8.GetString(SseFrames.Error("{\"a\":1}"u8, endOpenEvent)));

    [Fact]
    public void CommentThenError_Text_CommentLineThenErrorEvent()
        => Assert.Equal(": verdict failed\n\ndata: {}\n\n", Encoding.UTF8.GetString(SseFrames.CommentThenError("verdict failed", "{}"u8)));

    [Theory]
    [InlineData(nameof(StreamEnd.Truncated), "upstream_error")]
    [InlineData(nameof(StreamEnd.TimedOut), "upstream_timeout")]
    [InlineData(nameof(StreamEnd.Unreachable), "upstream_unreachable")]
    public void ProviderFailure_End_OpenAIShapedErrorWithItsCode(string end, string code)
    {
        var text = Encoding.UTF8.GetString(SseFrames.ProviderFailure(Enum.Parse<StreamEnd>(end), endOpenEvent: false));

        Assert.StartsWith("data: ", text, StringComparison.Ordinal);
        Assert.EndsWith("\n\n", text, StringComparison.Ordinal);
        using var json = JsonDocument.Parse(text[6..]);
        Assert.Equal(code, json.RootElement.GetProperty("error").GetProperty("code").GetString());
        Assert.Equal("server_error", json.RootElement.GetProperty("error").GetProperty("type").GetString());
    }
}
