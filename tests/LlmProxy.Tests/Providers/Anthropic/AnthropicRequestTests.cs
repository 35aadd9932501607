using System.Text;
using System.Text.Json;
using LlmProxy.Providers.Anthropic;

namespace LlmProxy.Tests.Providers.Anthropic;

public sealed class AnthropicRequestTests
{
    private static JsonElement Translate(string openAI, int defaultMaxTokens = 1000)
    {
        var result = AnthropicRequest.Translate(Encoding.UTF8.GetBytes(openAI), "claude-up", defaultMaxTokens);
        Assert.True(result.Body is not null, result.Error);
        return JsonDocument.Parse(result.Body).RootElement;
    }

    private static AnthropicRequestResult Refused(string openAI)
    {
        var result = AnthropicRequest.Translate(Encoding.UTF8.GetBytes(openAI), "claude-up", 1000);
        Assert.Null(result.Body);
        Assert.False(string.IsNullOrEmpty(result.Error));
        return result;
    }

    [Fact]
    public void Translate_SystemAndDeveloper_JoinedIntoTopLevelSystem()
    {
        var sent = Translate("""{"model":"m","messages":[{"role":"system","content":"One."},{"role":"developer","content":[{"type":"text","text":"Two."}]},{"role":"user","content":"Hi"}]}""");

        Assert.Equal("One.\n\nTwo.", sent.GetProperty("system").GetString());
        Assert.Equal(1, sent.GetProperty("messages").GetArrayLength());
        Assert.Equal("claude-up", sent.GetProperty("model").GetString());
    }

    [Theory]
    [InlineData("""{"model":"m","messages":[{"role":"user","content":"Hi"}]}""", 1000)]
    [InlineData("""{"model":"m","max_tokens":50,"messages":[{"role":"user","content":"Hi"}]}""", 50)]
    [InlineData("""{"model":"m","max_tokens":50,"max_completion_tokens":70,"messages":[{"role":"user","content":"Hi"}]}""", 70)]
    public void Translate_MaxTokens_ClientsOrTheDefault(string openAI, int expected)
    {
        Assert.Equal(expected, Translate(openAI).GetProperty("max_tokens").GetInt32());
    }

    [Fact]
    public void Translate_ImageParts_DataUrlAsBase64AndHttpAsUrl()
    {
        var sent = Translate("""{"model":"m","messages":[{"role":"user","content":[{"type":"text","text":"What?"},{"type":"image_url","image_url":{"url":"data:image/png;base64,iVBORw0KGgo="}},{"type":"image_url","image_url":{"url":"https://example.com/cat.jpg"}}]}]}""");

        var content = sent.GetProperty("messages")[0].GetProperty("content");
        Assert.Equal("base64", content[1].GetProperty("source").GetProperty("type").GetString());
        Assert.Equal("image/png", content[1].GetProperty("source").GetProperty("media_type").GetString());
        Assert.Equal("iVBORw0KGgo=", content[1].GetProperty("source").GetProperty("data").GetString());
        Assert.Equal("url", content[2].GetProperty("source").GetProperty("type").GetString());
        Assert.Equal("https://example.com/cat.jpg", content[2].GetProperty("source").GetProperty("url").GetString());
    }

    [Fact]
    public void Translate_AssistantToolCallsAndConsecutiveToolResults_ToolUseAndOneUserMessage()
    {
        var sent = Translate("""
            {"model":"m","messages":[{"role":"user","content":"Go"},
             {"role":"assistant","content":"","tool_calls":[{"id":"c1","type":"function","function":{"name":"a","arguments":"{\"x\":1}"}},{"id":"c2","type":"function","function":{"name":"b","arguments":"{}"}}]},
             {"role":"tool","tool_call_id":"c1","content":"one"},{"role":"tool","tool_call_id":"c2","content":[{"type":"text","text":"two"}]}]}
            """);

        var messages = sent.GetProperty("messages");
        Assert.Equal(3, messages.GetArrayLength());
        var assistant = messages[1].GetProperty("content");
        Assert.Equal(2, assistant.GetArrayLength());
        Assert.Equal("tool_use", assistant[0].GetProperty("type").GetString());
        Assert.Equal(1, assistant[0].GetProperty("input").GetProperty("x").GetInt32());
        var results = messages[2].GetProperty("content");
        Assert.Equal("user", messages[2].GetProperty("role").GetString());
        Assert.Equal(["c1", "c2"], results.EnumerateArray().Select(r => r.GetProperty("tool_use_id").GetString()));
        Assert.Equal("two", results[1].GetProperty("content").GetString());
    }

    [Theory]
    [InlineData("\"auto\"", "auto", null)]
    [InlineData("\"none\"", "none", null)]
    [InlineData("\"required\"", "any", null)]
    [InlineData("""{"type":"function","function":{"name":"f"}}""", "tool", "f")]
    public void Translate_ToolChoice_Mapped(string choice, string type, string? name)
    {
        var sent = Translate("""{"model":"m","messages":[{"role":"user","content":"Hi"}],"tools":[{"type":"function","function":{"name":"f","parameters":{"type":"object"}}}],"tool_choice":""" + choice + "}");

        Assert.Equal(type, sent.GetProperty("tool_choice").GetProperty("type").GetString());
        Assert.Equal(name, sent.GetProperty("tool_choice").TryGetProperty("name", out var n) ? n.GetString() : null);
        Assert.Equal("object", sent.GetProperty("tools")[0].GetProperty("input_schema").GetProperty("type").GetString());
    }

    [Fact]
    public void Translate_ParallelToolCallsFalse_DisableParallelToolUse()
    {
        var sent = Translate("""{"model":"m","messages":[{"role":"user","content":"Hi"}],"tools":[{"type":"function","function":{"name":"f"}}],"parallel_tool_calls":false}""");

        Assert.Equal("auto", sent.GetProperty("tool_choice").GetProperty("type").GetString());
        Assert.True(sent.GetProperty("tool_choice").GetProperty("disable_parallel_tool_use").GetBoolean());
        Assert.Equal("object", sent.GetProperty("tools")[0].GetProperty("input_schema").GetProperty("type").GetString());
    }

    [Fact]
    public void Translate_ResponseFormatWithoutTools_ForcedJsonTool()
    {
        var result = AnthropicRequest.Translate(Encoding.UTF8.GetBytes("""{"model":"m","messages":[{"role":"user","content":"Hi"}],"response_format":{"type":"json_schema","json_schema":{"name":"p","schema":{"type":"object","properties":{"a":{"type":"integer"}}}}}}"""), "c", 10);
        var sent = JsonDocument.Parse(result.Body!).RootElement;

        Assert.Equal(AnthropicRequest.JsonToolName, result.JsonToolName);
        Assert.Equal("tool", sent.GetProperty("tool_choice").GetProperty("type").GetString());
        Assert.Equal("integer", sent.GetProperty("tools")[0].GetProperty("input_schema").GetProperty("properties").GetProperty("a").GetProperty("type").GetString());
    }

    [Fact]
    public void Translate_ResponseFormatWithTools_InstructionInSystemAndNoForcedTool()
    {
        var result = AnthropicRequest.Translate(Encoding.UTF8.GetBytes("""{"model":"m","messages":[{"role":"user","content":"Hi"}],"tools":[{"type":"function","function":{"name":"f"}}],"response_format":{"type":"json_schema","json_schema":{"name":"p","schema":{"type":"object"}}}}"""), "c", 10);
        var sent = JsonDocument.Parse(result.Body!).RootElement;

        Assert.Null(result.JsonToolName);
        Assert.Contains("JSON schema", sent.GetProperty("system").GetString(), StringComparison.Ordinal);
        Assert.Equal(1, sent.GetProperty("tools").GetArrayLength());
    }

    [Fact]
    public void Translate_ParametersWithoutEquivalent_NeverSent()
    {
        var sent = Translate("""{"model":"m","messages":[{"role":"user","content":"Hi"}],"frequency_penalty":1,"presence_penalty":1,"logit_bias":{},"seed":4,"logprobs":true,"n":1,"store":true,"stream_options":{"include_usage":true},"metadata":{"a":"b"},"unknown_thing":1}""");

        var names = sent.EnumerateObject().Select(p => p.Name).Order().ToArray();
        Assert.Equal(["max_tokens", "messages", "model"], names);
    }

    [Theory]
    [InlineData("""{"model":"m","messages":"hi"}""", "messages")]
    [InlineData("""{"model":"m","messages":[]}""", "messages")]
    [InlineData("""{"model":"m","messages":[{"role":"system","content":"only system"}]}""", "messages")]
    [InlineData("""{"model":"m","n":2,"messages":[{"role":"user","content":"Hi"}]}""", "n")]
    [InlineData("""{"model":"m","messages":[{"role":"user","content":[{"type":"input_audio","input_audio":{}}]}]}""", "messages[0].content[0]")]
    [InlineData("""{"model":"m","messages":[{"role":"function","name":"f","content":"x"}]}""", "messages[0].role")]
    [InlineData("""{"model":"m","messages":[{"role":"assistant","tool_calls":[{"id":"a","type":"function","function":{"name":"f","arguments":"[1]"}}]}]}""", "messages[0].tool_calls[0].function.arguments")]
    [InlineData("""{"model":"m","max_tokens":"many","messages":[{"role":"user","content":"Hi"}]}""", "max_tokens")]
    [InlineData("""{"model":"m","tools":[{"type":"code_interpreter"}],"messages":[{"role":"user","content":"Hi"}]}""", "tools[0]")]
    public void Translate_Untranslatable_ErrorNamingTheParam(string openAI, string param)
    {
        Assert.Equal(param, Refused(openAI).Param);
    }

    [Fact]
    public void Translate_EmptyTextParts_LeftOut()
    {
        var sent = Translate("""{"model":"m","messages":[{"role":"user","content":[{"type":"text","text":""},{"type":"text","text":"x"}]}]}""");

        Assert.Equal(1, sent.GetProperty("messages")[0].GetProperty("content").GetArrayLength());
    }
}
