using System.Text;
using System.Text.Json;
using LlmProxy.Providers.Anthropic;

namespace LlmProxy.Tests.Providers.Anthropic;

public sealed class AnthropicJsonModeTests
{
    private const string Schema = "{\"type\":\"object\",\"properties\":{\"answer\":{\"type\":\"string\"}},\"required\":[\"answer\"]}";

    private const string Tool = "{\"type\":\"function\",\"function\":{\"name\":\"f\"}}";

    private static AnthropicRequestResult Run(string fields)
        => AnthropicRequest.Translate(Encoding.UTF8.GetBytes("{\"model\":\"m\",\"messages\":[{\"role\":\"system\",\"content\":\"Be brief.\"},{\"role\":\"user\",\"content\":\"x\"}]," + fields + "}"), "up", 100);

    private static JsonElement Body(AnthropicRequestResult result)
    {
        Assert.NotNull(result.Body);
        return JsonDocument.Parse(result.Body).RootElement.Clone();
    }

    [Fact]
    public void Of_JsonSchemaWithoutTools_ForcedJsonTool()
    {
        var result = Run("\"response_format\":{\"type\":\"json_schema\",\"json_schema\":{\"name\":\"answer_box\",\"strict\":true,\"schema\":" + Schema + "}}");

        Assert.Equal("json_response", result.JsonToolName);
        var root = Body(result);
        var tool = Assert.Single(root.GetProperty("tools").EnumerateArray());
        Assert.Equal("json_response", tool.GetProperty("name").GetString());
        Assert.StartsWith("Respond with the final answer as this tool's input, matching its JSON schema.", tool.GetProperty("description").GetString(), StringComparison.Ordinal);
        Assert.Contains("answer_box", tool.GetProperty("description").GetString(), StringComparison.Ordinal);
        Assert.Equal("answer", tool.GetProperty("input_schema").GetProperty("required")[0].GetString());
        var choice = root.GetProperty("tool_choice");
        Assert.Equal("tool", choice.GetProperty("type").GetString());
        Assert.Equal("json_response", choice.GetProperty("name").GetString());
        Assert.Equal("Be brief.", root.GetProperty("system").GetString());
    }

    [Fact]
    public void Of_JsonSchemaWithTools_SchemaInSystemNotForced()
    {
        var result = Run("\"tools\":[" + Tool + "],\"response_format\":{\"type\":\"json_schema\",\"json_schema\":{\"name\":\"a\",\"schema\":" + Schema + "}}");

        Assert.Null(result.JsonToolName);
        var root = Body(result);
        Assert.Single(root.GetProperty("tools").EnumerateArray());
        Assert.False(root.TryGetProperty("tool_choice", out _));
        var system = root.GetProperty("system").GetString()!;
        Assert.StartsWith("Be brief.\n\nAnswer with only a JSON object that matches this JSON schema: ", system, StringComparison.Ordinal);
        Assert.Contains("\"required\":[\"answer\"]", system, StringComparison.Ordinal);
    }

    [Fact]
    public void Of_JsonObject_SystemInstruction()
    {
        var result = Run("\"response_format\":{\"type\":\"json_object\"}");

        Assert.Null(result.JsonToolName);
        var root = Body(result);
        Assert.Equal("Be brief.\n\nAnswer with only a JSON object.", root.GetProperty("system").GetString());
        Assert.False(root.TryGetProperty("tools", out _));
    }

    [Fact]
    public void Of_Text_Nothing()
    {
        var result = Run("\"response_format\":{\"type\":\"text\"}");

        Assert.Null(result.JsonToolName);
        Assert.Equal("Be brief.", Body(result).GetProperty("system").GetString());
    }

    [Fact]
    public void Of_ForcedWithParallelFalse_ForcedChoiceWins()
    {
        var result = Run("\"parallel_tool_calls\":false,\"tool_choice\":\"auto\",\"response_format\":{\"type\":\"json_schema\",\"json_schema\":{\"name\":\"a\",\"schema\":" + Schema + "}}");

        Assert.Equal("tool", Body(result).GetProperty("tool_choice").GetProperty("type").GetString());
    }

    [Theory]
    [InlineData("true")]
    [InlineData("{\"properties\":{\"a\":{\"type\":\"integer\"}}}")]
    public void Of_SchemaWithoutObjectType_TypeObjectAdded(string schema)
    {
        var result = Run("\"response_format\":{\"type\":\"json_schema\",\"json_schema\":{\"name\":\"a\",\"schema\":" + schema + "}}");

        var inputSchema = Body(result).GetProperty("tools")[0].GetProperty("input_schema");
        Assert.Equal("object", inputSchema.GetProperty("type").GetString());
        Assert.Equal(schema == "true" ? 1 : 2, inputSchema.EnumerateObject().Count());
    }

    [Theory]
    [InlineData("false")]
    [InlineData("{\"type\":\"array\",\"items\":{\"type\":\"string\"}}")]
    [InlineData("{\"type\":[\"object\",\"null\"]}")]
    [InlineData("\"object\"")]
    public void Of_NonObjectRootSchema_Error(string schema)
    {
        var result = Run("\"response_format\":{\"type\":\"json_schema\",\"json_schema\":{\"name\":\"a\",\"schema\":" + schema + "}}");

        Assert.Null(result.Body);
        Assert.Equal("response_format.json_schema.schema", result.Param);
    }

    [Fact]
    public void Of_NonObjectRootSchemaWithTools_GoesToSystem()
    {
        var result = Run("\"tools\":[" + Tool + "],\"response_format\":{\"type\":\"json_schema\",\"json_schema\":{\"name\":\"a\",\"schema\":{\"type\":\"array\"}}}");

        Assert.Contains("{\"type\":\"array\"}", Body(result).GetProperty("system").GetString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("\"response_format\":\"json\"", "response_format")]
    [InlineData("\"response_format\":{\"type\":\"xml\"}", "response_format.type")]
    [InlineData("\"response_format\":{\"type\":\"json_schema\"}", "response_format.json_schema")]
    public void Of_BadResponseFormat_ErrorNamingParam(string fields, string param)
    {
        var result = Run(fields);

        Assert.Null(result.Body);
        Assert.Equal(param, result.Param);
    }
}
