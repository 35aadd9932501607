using System.Text.Json;

namespace LlmProxy.Tests.Providers.Anthropic;

public sealed class AnthropicRequestToolsTests
{
    private const string Tool = "{\"type\":\"function\",\"function\":{\"name\":\"get_weather\",\"description\":\"Weather\",\"parameters\":{\"type\":\"object\",\"properties\":{\"city\":{\"type\":\"string\"}}}}}";

    private static JsonElement Translate(string fields)
        => AnthropicRequestTests.Translate("{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]," + fields + "}");

    [Fact]
    public void Write_FunctionTool_NameDescriptionInputSchema()
    {
        var tool = Assert.Single(Translate("\"tools\":[" + Tool + "]").GetProperty("tools").EnumerateArray());

        Assert.Equal("get_weather", tool.GetProperty("name").GetString());
        Assert.Equal("Weather", tool.GetProperty("description").GetString());
        Assert.Equal("string", tool.GetProperty("input_schema").GetProperty("properties").GetProperty("city").GetProperty("type").GetString());
    }

    [Fact]
    public void Write_ToolWithoutParameters_EmptyObjectSchema()
    {
        var tool = Translate("\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"now\"}}]").GetProperty("tools")[0];

        var schema = tool.GetProperty("input_schema");
        Assert.Equal("object", schema.GetProperty("type").GetString());
        Assert.Empty(schema.GetProperty("properties").EnumerateObject());
        Assert.False(tool.TryGetProperty("description", out _));
    }

    [Fact]
    public void Write_NoToolChoice_NoneSent()
    {
        Assert.False(Translate("\"tools\":[" + Tool + "]").TryGetProperty("tool_choice", out _));
    }

    [Theory]
    [InlineData("\"auto\"", "auto", null)]
    [InlineData("\"none\"", "none", null)]
    [InlineData("\"required\"", "any", null)]
    [InlineData("{\"type\":\"function\",\"function\":{\"name\":\"get_weather\"}}", "tool", "get_weather")]
    public void Write_ToolChoice_Mapped(string choice, string type, string? name)
    {
        var toolChoice = Translate("\"tools\":[" + Tool + "],\"tool_choice\":" + choice).GetProperty("tool_choice");

        Assert.Equal(type, toolChoice.GetProperty("type").GetString());
        Assert.Equal(name, toolChoice.TryGetProperty("name", out var n) ? n.GetString() : null);
        Assert.False(toolChoice.TryGetProperty("disable_parallel_tool_use", out _));
    }

    [Theory]
    [InlineData("", "auto")]
    [InlineData(",\"tool_choice\":\"required\"", "any")]
    [InlineData(",\"tool_choice\":{\"type\":\"function\",\"function\":{\"name\":\"get_weather\"}}", "tool")]
    public void Write_ParallelToolCallsFalse_DisablesParallelUse(string choice, string type)
    {
        var toolChoice = Translate("\"tools\":[" + Tool + "],\"parallel_tool_calls\":false" + choice).GetProperty("tool_choice");

        Assert.Equal(type, toolChoice.GetProperty("type").GetString());
        Assert.True(toolChoice.GetProperty("disable_parallel_tool_use").GetBoolean());
    }

    [Fact]
    public void Write_ToolChoiceNoneWithParallelFalse_JustNone()
    {
        var toolChoice = Translate("\"tools\":[" + Tool + "],\"parallel_tool_calls\":false,\"tool_choice\":\"none\"").GetProperty("tool_choice");

        Assert.Equal("none", toolChoice.GetProperty("type").GetString());
        Assert.False(toolChoice.TryGetProperty("disable_parallel_tool_use", out _));
    }

    [Fact]
    public void Write_ParallelTrue_NoToolChoice()
    {
        Assert.False(Translate("\"tools\":[" + Tool + "],\"parallel_tool_calls\":true").TryGetProperty("tool_choice", out _));
    }

    [Fact]
    public void Write_ToolChoiceWithoutTools_Dropped()
    {
        var root = Translate("\"tool_choice\":\"auto\",\"parallel_tool_calls\":false");

        Assert.False(root.TryGetProperty("tool_choice", out _));
        Assert.False(root.TryGetProperty("tools", out _));
    }

    [Theory]
    [InlineData("\"tools\":[{\"type\":\"web_search\"}]", "tools[0].type")]
    [InlineData("\"tools\":[" + Tool + ",{\"type\":\"custom\",\"custom\":{\"name\":\"x\"}}]", "tools[1].type")]
    [InlineData("\"tools\":{}", "tools")]
    [InlineData("\"tools\":[{\"type\":\"function\"}]", "tools[0].function")]
    [InlineData("\"tools\":[{\"type\":\"function\",\"function\":{\"description\":\"d\"}}]", "tools[0].function.name")]
    [InlineData("\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"f\",\"parameters\":true}}]", "tools[0].function.parameters")]
    [InlineData("\"tools\":[" + Tool + "],\"tool_choice\":\"sometimes\"", "tool_choice")]
    [InlineData("\"tools\":[" + Tool + "],\"tool_choice\":{\"type\":\"allowed_tools\"}", "tool_choice")]
    [InlineData("\"tools\":[" + Tool + "],\"parallel_tool_calls\":\"no\"", "parallel_tool_calls")]
    public void Write_BadTools_ErrorNamingParam(string fields, string param)
    {
        var result = AnthropicRequestTests.Fail("{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]," + fields + "}");

        Assert.Equal(param, result.Param);
    }
}
