using System.Text.Json;

namespace LlmProxy.Tests.Providers.Anthropic;

public sealed class AnthropicRequestMessagesTests
{
    private static JsonElement Messages(string messages)
        => AnthropicRequestTests.Translate("{\"model\":\"m\",\"messages\":" + messages + "}").GetProperty("messages");

    [Fact]
    public void Write_ImageDataUrl_Base64Source()
    {
        var messages = Messages("[{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"What?\"},"
            + "{\"type\":\"image_url\",\"image_url\":{\"url\":\"data:image/png;base64,iVBORw0KGgo=\",\"detail\":\"high\"}}]}]");

        var image = messages[0].GetProperty("content")[1];
        Assert.Equal("image", image.GetProperty("type").GetString());
        var source = image.GetProperty("source");
        Assert.Equal("base64", source.GetProperty("type").GetString());
        Assert.Equal("image/png", source.GetProperty("media_type").GetString());
        Assert.Equal("iVBORw0KGgo=", source.GetProperty("data").GetString());
    }

    [Fact]
    public void Write_ImageHttpUrl_UrlSource()
    {
        var messages = Messages("[{\"role\":\"user\",\"content\":[{\"type\":\"image_url\",\"image_url\":{\"url\":\"https://example.com/cat.jpg\"}}]}]");

        var source = messages[0].GetProperty("content")[0].GetProperty("source");
        Assert.Equal("url", source.GetProperty("type").GetString());
        Assert.Equal("https://example.com/cat.jpg", source.GetProperty("url").GetString());
    }

    [Theory]
    [InlineData("ftp://example.com/cat.jpg")]
    [InlineData("data:image/png,notbase64")]
    [InlineData("data:;base64,AAAA")]
    [InlineData("cat.jpg")]
    public void Write_BadImageUrl_ErrorOnUrl(string url)
    {
        var result = AnthropicRequestTests.Fail("{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"image_url\",\"image_url\":{\"url\":\"" + url + "\"}}]}]}");

        Assert.Equal("messages[0].content[0].image_url.url", result.Param);
    }

    [Theory]
    [InlineData("{\"type\":\"input_audio\",\"input_audio\":{\"data\":\"AAAA\",\"format\":\"wav\"}}")]
    [InlineData("{\"type\":\"file\",\"file\":{\"file_id\":\"file-1\"}}")]
    public void Write_UnsupportedPart_ErrorNamingPart(string part)
    {
        var result = AnthropicRequestTests.Fail("{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"x\"}," + part + "]}]}");

        Assert.Equal("messages[0].content[1]", result.Param);
    }

    [Fact]
    public void Write_EmptyTextParts_Dropped()
    {
        var messages = Messages("[{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"\"},{\"type\":\"text\",\"text\":\"Hi\"}]},"
            + "{\"role\":\"assistant\",\"content\":\"\"},{\"role\":\"user\",\"content\":\"Again\"}]");

        Assert.Equal(2, messages.GetArrayLength());
        var block = Assert.Single(messages[0].GetProperty("content").EnumerateArray());
        Assert.Equal("Hi", block.GetProperty("text").GetString());
        Assert.Equal("user", messages[1].GetProperty("role").GetString());
    }

    [Fact]
    public void Write_AssistantToolCallsOnly_JustToolUseBlocks()
    {
        var messages = Messages("[{\"role\":\"user\",\"content\":\"Weather?\"},{\"role\":\"assistant\",\"content\":null,\"tool_calls\":["
            + "{\"id\":\"call_1\",\"type\":\"function\",\"function\":{\"name\":\"get_weather\",\"arguments\":\"{\\\"city\\\":\\\"Zürich\\\"}\"}},"
            + "{\"id\":\"call_2\",\"type\":\"function\",\"function\":{\"name\":\"now\",\"arguments\":\"\"}}]}]");

        var blocks = messages[1].GetProperty("content");
        Assert.Equal(2, blocks.GetArrayLength());
        Assert.Equal("tool_use", blocks[0].GetProperty("type").GetString());
        Assert.Equal("call_1", blocks[0].GetProperty("id").GetString());
        Assert.Equal("get_weather", blocks[0].GetProperty("name").GetString());
        Assert.Equal("Zürich", blocks[0].GetProperty("input").GetProperty("city").GetString());
        Assert.Equal(JsonValueKind.Object, blocks[1].GetProperty("input").ValueKind);
        Assert.Empty(blocks[1].GetProperty("input").EnumerateObject());
    }

    [Fact]
    public void Write_AssistantTextAndToolCalls_TextFirst()
    {
        var messages = Messages("[{\"role\":\"user\",\"content\":\"x\"},{\"role\":\"assistant\",\"content\":\"Let me check.\",\"tool_calls\":["
            + "{\"id\":\"c\",\"type\":\"function\",\"function\":{\"name\":\"f\",\"arguments\":\"{}\"}}]}]");

        var blocks = messages[1].GetProperty("content");
        Assert.Equal(["text", "tool_use"], blocks.EnumerateArray().Select(b => b.GetProperty("type").GetString()));
    }

    [Theory]
    [InlineData("\"[1,2]\"")]
    [InlineData("\"not json\"")]
    [InlineData("\"42\"")]
    [InlineData("7")]
    public void Write_ArgumentsNotAnObject_ErrorOnArguments(string arguments)
    {
        var result = AnthropicRequestTests.Fail("{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"},{\"role\":\"assistant\",\"tool_calls\":["
            + "{\"id\":\"a\",\"type\":\"function\",\"function\":{\"name\":\"f\",\"arguments\":\"{}\"}},"
            + "{\"id\":\"b\",\"type\":\"function\",\"function\":{\"name\":\"f\",\"arguments\":" + arguments + "}}]}]}");

        Assert.Equal("messages[1].tool_calls[1].function.arguments", result.Param);
    }

    [Fact]
    public void Write_ConsecutiveToolMessages_MergedIntoOneUserMessage()
    {
        var messages = Messages("[{\"role\":\"user\",\"content\":\"x\"},{\"role\":\"assistant\",\"tool_calls\":["
            + "{\"id\":\"a\",\"type\":\"function\",\"function\":{\"name\":\"f\",\"arguments\":\"{}\"}},"
            + "{\"id\":\"b\",\"type\":\"function\",\"function\":{\"name\":\"g\",\"arguments\":\"{}\"}}]},"
            + "{\"role\":\"tool\",\"tool_call_id\":\"a\",\"content\":\"sunny\"},"
            + "{\"role\":\"tool\",\"tool_call_id\":\"b\",\"content\":[{\"type\":\"text\",\"text\":\"12:00\"}]},"
            + "{\"role\":\"user\",\"content\":\"Thanks\"}]");

        Assert.Equal(4, messages.GetArrayLength());
        var results = messages[2];
        Assert.Equal("user", results.GetProperty("role").GetString());
        var blocks = results.GetProperty("content");
        Assert.Equal(2, blocks.GetArrayLength());
        Assert.Equal("tool_result", blocks[0].GetProperty("type").GetString());
        Assert.Equal("a", blocks[0].GetProperty("tool_use_id").GetString());
        Assert.Equal("sunny", blocks[0].GetProperty("content").GetString());
        Assert.Equal("b", blocks[1].GetProperty("tool_use_id").GetString());
        Assert.Equal("12:00", blocks[1].GetProperty("content").GetString());
        Assert.Equal("Thanks", messages[3].GetProperty("content")[0].GetProperty("text").GetString());
    }

    [Fact]
    public void Write_ToolMessageEmptyContent_ResultWithoutContent()
    {
        var messages = Messages("[{\"role\":\"user\",\"content\":\"x\"},{\"role\":\"tool\",\"tool_call_id\":\"a\",\"content\":\"\"}]");

        var block = messages[1].GetProperty("content")[0];
        Assert.Equal("a", block.GetProperty("tool_use_id").GetString());
        Assert.False(block.TryGetProperty("content", out _));
    }

    [Theory]
    [InlineData("{\"role\":\"tool\",\"content\":\"x\"}", "messages[1].tool_call_id")]
    [InlineData("{\"role\":\"tool\",\"tool_call_id\":\"a\",\"content\":[{\"type\":\"image_url\",\"image_url\":{\"url\":\"https://x/y.png\"}}]}", "messages[1].content[0]")]
    [InlineData("{\"role\":\"assistant\",\"tool_calls\":[{\"id\":\"a\",\"type\":\"custom\",\"custom\":{}}]}", "messages[1].tool_calls[0].type")]
    [InlineData("{\"role\":\"assistant\",\"tool_calls\":[{\"type\":\"function\",\"function\":{\"name\":\"f\",\"arguments\":\"{}\"}}]}", "messages[1].tool_calls[0].id")]
    [InlineData("{\"role\":\"assistant\",\"tool_calls\":{}}", "messages[1].tool_calls")]
    [InlineData("{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":5}]}", "messages[1].content[0].text")]
    [InlineData("{\"role\":\"user\",\"content\":[\"text\"]}", "messages[1].content[0]")]
    public void Write_BadMessage_ErrorNamingParam(string message, string param)
    {
        var result = AnthropicRequestTests.Fail("{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}," + message + "]}");

        Assert.Equal(param, result.Param);
    }
}
