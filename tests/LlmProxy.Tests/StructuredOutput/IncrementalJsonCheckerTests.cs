using System.Text.Json;
using LlmProxy.StructuredOutput;

namespace LlmProxy.Tests.StructuredOutput;

public sealed class IncrementalJsonCheckerTests
{
    private const string Schema = """
        {"type":"object","additionalProperties":false,"properties":{
          "name":{"type":"string"},"age":{"type":"integer"},"kind":{"enum":["cat","dog"]},"v":{"const":2},
          "tags":{"type":"array","items":{"type":"string"}},"next":{"$ref":"#/$defs/node"},"any":{"anyOf":[{"type":"string"},{"type":"number"}]}},
         "$defs":{"node":{"type":"object","properties":{"id":{"type":"integer"}},"additionalProperties":false}}}
        """;

    private static IncrementalJsonChecker Checker()
    {
        using var document = JsonDocument.Parse(Schema);
        return new IncrementalJsonChecker(document.RootElement.Clone());
    }

    [Theory]
    [InlineData("")]
    [InlineData("{")]
    [InlineData("{\"na")]
    [InlineData("{\"name\":\"Ad")]
    [InlineData("{\"name\":\"A\\\"d\\u00e9\",\"age\":3")]
    [InlineData("{\"age\":36,\"kind\":\"ca")]
    [InlineData("{\"tags\":[\"a\",\"b\"")]
    [InlineData("{\"next\":{\"id\":1")]
    [InlineData("{\"any\":{\"whatever\":true")]
    [InlineData("{\"v\":2,\"age\":-1}")]
    [InlineData("{\"any\":null")]
    [InlineData("{\"any\":1e400,")]
    [InlineData("{\"any\":123456789012345678901234567890123,")]
    public void Add_PrefixThatCanStillBecomeValid_Viable(string prefix)
    {
        var checker = Checker();

        Assert.True(checker.Add(prefix), checker.Violation?.ToString());
        Assert.Null(checker.Violation);
    }

    [Theory]
    [InlineData("{\"nmae\":", "additionalProperties", "/nmae")]
    [InlineData("{\"age\":\"36\"", "type", "/age")]
    [InlineData("{\"age\":3.5,", "type", "/age")]
    [InlineData("{\"kind\":\"cow\"", "enum", "/kind")]
    [InlineData("{\"v\":3}", "const", "/v")]
    [InlineData("{\"tags\":[\"a\",1", "type", "/tags/1")]
    [InlineData("{\"next\":{\"idx\":", "additionalProperties", "/next/idx")]
    [InlineData("[", "type", "")]
    [InlineData("{\"name\" \"x\"", "json", "/name")]
    [InlineData("{\"age\":01,", "json", "/age")]
    [InlineData("{\"any\":tru3", "json", "/any")]
    [InlineData("{\"name\":null", "type", "/name")]
    [InlineData("{} {", "json", "")]
    public void Add_PrefixThatCannotBecomeValid_ViolationWithPathAndKeyword(string prefix, string keyword, string path)
    {
        var checker = Checker();

        Assert.False(checker.Add(prefix));
        Assert.Equal(keyword, checker.Violation!.Keyword);
        Assert.Equal(path, checker.Violation.Path);
    }

    [Fact]
    public void Add_InPieces_SameAsWhole()
    {
        var checker = Checker();
        foreach (var piece in new[] { "{\"na", "me\":\"Ada\",\"ag", "e\":36,\"kind\":\"d", "og\",\"tags\":[\"x\"]}" })
        {
            Assert.True(checker.Add(piece));
        }

        Assert.False(checker.Add(","));
    }

    [Fact]
    public void Add_RefInsideAnEmbeddedResource_NotDecidedEarly()
    {
        // "#" inside the resource with its own $id is that resource, not the root that forbids "x".
        using var document = JsonDocument.Parse("""
            {"type":"object","additionalProperties":false,"properties":{"tree":{"$ref":"#/$defs/tree"}},
             "$defs":{"tree":{"$id":"http://example.com/tree","type":"object","properties":{"x":{"type":"integer"},"child":{"$ref":"#"}}}}}
            """);
        var checker = new IncrementalJsonChecker(document.RootElement.Clone());

        Assert.True(checker.Add("""{"tree":{"child":{"x":1}}}"""), checker.Violation?.ToString());
    }
}

