using System.Text;
using System.Text.Json;
using LlmProxy.Providers.Anthropic;

namespace LlmProxy.Tests.Providers.Anthropic;

public sealed class AnthropicRequestTests
{
    private const string Hi = "\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}]";

    internal static JsonElement Translate(string body, int defaultMaxTokens = 4096)
    {
        var result = AnthropicRequest.Translate(Encoding.UTF8.GetBytes(body), "claude-up", defaultMaxTokens);
        Assert.True(result.Body is not null, $"expected a body, got error '{result.Error}' on '{result.Param}'");
        Assert.Null(result.Error);
        return JsonDocument.Parse(result.Body).RootElement.Clone();
    }

    internal static AnthropicRequestResult Fail(string body)
    {
        var result = AnthropicRequest.Translate(Encoding.UTF8.GetBytes(body), "claude-up", 4096);
        Assert.Null(result.Body);
        Assert.False(string.IsNullOrEmpty(result.Error));
        return result;
    }

    [Fact]
    public void Translate_PlainRequest_ModelReplacedAndDefaultMaxTokens()
    {
        var root = Translate("{\"model\":\"client\"," + Hi + "}", defaultMaxTokens: 1234);

        Assert.Equal("claude-up", root.GetProperty("model").GetString());
        Assert.Equal(1234, root.GetProperty("max_tokens").GetInt32());
        var message = Assert.Single(root.GetProperty("messages").EnumerateArray());
        Assert.Equal("user", message.GetProperty("role").GetString());
        var block = Assert.Single(message.GetProperty("content").EnumerateArray());
        Assert.Equal("text", block.GetProperty("type").GetString());
        Assert.Equal("Hi", block.GetProperty("text").GetString());
        Assert.False(root.TryGetProperty("system", out _));
        Assert.False(root.TryGetProperty("stream", out _));
    }

    [Theory]
    [InlineData("\"max_tokens\":10", 10)]
    [InlineData("\"max_completion_tokens\":20", 20)]
    [InlineData("\"max_tokens\":10,\"max_completion_tokens\":20", 20)]
    [InlineData("\"max_completion_tokens\":20,\"max_tokens\":10", 20)]
    [InlineData("\"max_tokens\":null", 4096)]
    public void Translate_MaxTokens_CompletionTokensWin(string fields, int expected)
    {
        var root = Translate("{\"model\":\"m\"," + fields + "," + Hi + "}");

        Assert.Equal(expected, root.GetProperty("max_tokens").GetInt32());
    }

    [Fact]
    public void Translate_SystemAndDeveloper_JoinedIntoTopLevelString()
    {
        var root = Translate("{\"model\":\"m\",\"messages\":[{\"role\":\"system\",\"content\":\"One\"},"
            + "{\"role\":\"developer\",\"content\":[{\"type\":\"text\",\"text\":\"Two\"},{\"type\":\"text\",\"text\":\"\"}]},"
            + "{\"role\":\"user\",\"content\":\"Hi\"},{\"role\":\"system\",\"content\":\"Three\"}]}");

        Assert.Equal("One\n\nTwo\n\nThree", root.GetProperty("system").GetString());
        Assert.Single(root.GetProperty("messages").EnumerateArray());
    }

    [Fact]
    public void Translate_StopString_BecomesArray()
    {
        var root = Translate("{\"model\":\"m\",\"stop\":\"END\"," + Hi + "}");

        Assert.Equal(["END"], root.GetProperty("stop_sequences").EnumerateArray().Select(s => s.GetString()));
    }

    [Fact]
    public void Translate_StopArray_EmptyStringsDropped()
    {
        var root = Translate("{\"model\":\"m\",\"stop\":[\"a\",\"\",\"b\"]," + Hi + "}");

        Assert.Equal(["a", "b"], root.GetProperty("stop_sequences").EnumerateArray().Select(s => s.GetString()));
    }

    [Theory]
    [InlineData("[\"\\n\"]")]
    [InlineData("\"\\n\"")]
    [InlineData("[\" \",\"\\t\",\"\\r\\n\",\"\\u00a0\"]")]
    public void Translate_StopWhitespaceOnly_NoStopSequences(string stop)
    {
        var root = Translate("{\"model\":\"m\",\"stop\":" + stop + "," + Hi + "}");

        Assert.False(root.TryGetProperty("stop_sequences", out _));
    }

    [Fact]
    public void Translate_StopArrayWithWhitespaceEntries_OnlyTheOthersSent()
    {
        var root = Translate("{\"model\":\"m\",\"stop\":[\"\\n\",\"END\",\"\\n\\n\",\" x \"]," + Hi + "}");

        Assert.Equal(["END", " x "], root.GetProperty("stop_sequences").EnumerateArray().Select(s => s.GetString()));
    }

    [Theory]
    [InlineData("1.5", "1")]
    [InlineData("2", "1")]
    [InlineData("1.0000001", "1")]
    [InlineData("1", "1")]
    [InlineData("0.7", "0.7")]
    [InlineData("0", "0")]
    public void Translate_Temperature_ClampedToAnthropicsMaximum(string temperature, string sent)
    {
        var root = Translate("{\"model\":\"m\",\"temperature\":" + temperature + "," + Hi + "}");

        Assert.Equal(sent, root.GetProperty("temperature").GetRawText());
    }

    [Fact]
    public void Translate_Sampling_PassedThrough()
    {
        var root = Translate("{\"model\":\"m\",\"temperature\":0.5,\"top_p\":0.9,\"top_k\":40,\"stream\":true,\"user\":\"u-1\"," + Hi + "}");

        Assert.Equal(0.5, root.GetProperty("temperature").GetDouble());
        Assert.Equal(0.9, root.GetProperty("top_p").GetDouble());
        Assert.Equal(40, root.GetProperty("top_k").GetInt32());
        Assert.True(root.GetProperty("stream").GetBoolean());
        Assert.Equal("u-1", root.GetProperty("metadata").GetProperty("user_id").GetString());
    }

    [Fact]
    public void Translate_StreamFalse_KeptFalse()
    {
        var root = Translate("{\"model\":\"m\",\"stream\":false," + Hi + "}");

        Assert.False(root.GetProperty("stream").GetBoolean());
    }

    [Fact]
    public void Translate_DroppedParameters_NeverSent()
    {
        var fields = string.Join(",", AnthropicRequest.DroppedParameters.Where(p => p != "model").Select(p => $"\"{p}\":1"));

        var root = Translate("{\"model\":\"m\"," + fields + ",\"unknown_thing\":{\"a\":1},\"n\":1," + Hi + "}");

        Assert.Equal(["max_tokens", "messages", "model"], root.EnumerateObject().Select(p => p.Name).Order());
    }

    [Fact]
    public void Translate_NonAscii_Survives()
    {
        var root = Translate("{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"Grüße 日本 🎉\"}]}");

        Assert.Equal("Grüße 日本 🎉", root.GetProperty("messages")[0].GetProperty("content")[0].GetProperty("text").GetString());
    }

    [Theory]
    [InlineData("{\"model\":\"m\",\"n\":2," + Hi + "}", "n")]
    [InlineData("{\"model\":\"m\",\"n\":\"x\"," + Hi + "}", "n")]
    [InlineData("{\"model\":\"m\",\"max_tokens\":0," + Hi + "}", "max_tokens")]
    [InlineData("{\"model\":\"m\",\"max_completion_tokens\":\"9\"," + Hi + "}", "max_completion_tokens")]
    [InlineData("{\"model\":\"m\",\"stop\":5," + Hi + "}", "stop")]
    [InlineData("{\"model\":\"m\",\"stop\":[5]," + Hi + "}", "stop")]
    [InlineData("{\"model\":\"m\",\"temperature\":\"hot\"," + Hi + "}", "temperature")]
    [InlineData("{\"model\":\"m\",\"top_k\":1.5," + Hi + "}", "top_k")]
    [InlineData("{\"model\":\"m\",\"stream\":\"yes\"," + Hi + "}", "stream")]
    [InlineData("{\"model\":\"m\",\"user\":5," + Hi + "}", "user")]
    [InlineData("{\"model\":\"m\",\"messages\":{}}", "messages")]
    [InlineData("{\"model\":\"m\"}", "messages")]
    [InlineData("{\"model\":\"m\",\"messages\":[]}", "messages")]
    [InlineData("{\"model\":\"m\",\"messages\":[{\"role\":\"system\",\"content\":\"only\"}]}", "messages")]
    [InlineData("{\"model\":\"m\",\"messages\":[5]}", "messages[0]")]
    [InlineData("{\"model\":\"m\",\"messages\":[{\"content\":\"x\"}]}", "messages[0].role")]
    [InlineData("{\"model\":\"m\",\"messages\":[{\"role\":\"wizard\",\"content\":\"x\"}]}", "messages[0].role")]
    [InlineData("{\"model\":\"m\",\"messages\":[{\"role\":\"function\",\"name\":\"f\",\"content\":\"x\"}]}", "messages[0].role")]
    [InlineData("{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":5}]}", "messages[0].content")]
    [InlineData("{\"model\":\"m\",\"messages\":[{\"role\":\"system\",\"content\":{}},{\"role\":\"user\",\"content\":\"x\"}]}", "messages[0].content")]
    public void Translate_WrongShape_ErrorNamingParam(string body, string param)
    {
        var result = Fail(body);

        Assert.Equal(param, result.Param);
    }

    [Fact]
    public void Translate_NGreaterThanOne_ExplainsAnthropicLimit()
    {
        var result = Fail("{\"model\":\"m\",\"n\":3," + Hi + "}");

        Assert.Equal("n > 1 is not supported by Anthropic targets.", result.Error);
    }

    [Theory]
    [InlineData("{\"model\":")]
    [InlineData("[1,2]")]
    [InlineData("")]
    public void Translate_MalformedBody_ErrorNotException(string body)
    {
        var result = Fail(body);

        Assert.Null(result.JsonToolName);
    }
}
