using System.Text;
using System.Text.Json;
using LlmProxy.Configuration;
using LlmProxy.Routing;
using LlmProxy.StructuredOutput;

namespace LlmProxy.Tests.StructuredOutput;

public sealed class SchemaReferencesTests
{
    private static OutputExpectation? Read(string schema, out string? error)
    {
        var body = Encoding.UTF8.GetBytes("""{"model":"m","response_format":{"type":"json_schema","json_schema":{"name":"s","schema":""" + schema + "}}}");
        Assert.Equal(LlmRequestParser.Failure.None, LlmRequestParser.TryParse(body, out var info));
        return OutputExpectation.Read(new SchemaCache(), body, info.ResponseFormat, info.Tools, StructuredOutputPolicy.Reject, out error, out _);
    }

    private static string Check(OutputExpectation expectation, string content)
        => AnswerValidator.Validate(JsonSerializer.SerializeToUtf8Bytes(new { choices = new[] { new { index = 0, message = new { role = "assistant", content }, finish_reason = "stop" } } }), expectation).Result;

    public static TheoryData<string, string, string> Resolvable => new()
    {
        // schema, a valid answer, an invalid answer
        { """{"$id":"http://example.com/root.json","properties":{"a":{"$ref":"item.json"}},"$defs":{"item":{"$id":"item.json","type":"integer"}}}""", """{"a":1}""", """{"a":"x"}""" },
        { """{"$id":"urn:uuid:deadbeef-1234-ffff-ffff-4321feebdaed","properties":{"a":{"$ref":"urn:uuid:deadbeef-1234-ffff-ffff-4321feebdaed#/$defs/s"}},"$defs":{"s":{"type":"string"}}}""", """{"a":"x"}""", """{"a":1}""" },
        { """{"properties":{"a":{"$ref":"#big"}},"$defs":{"b":{"$anchor":"big","minimum":10}}}""", """{"a":11}""", """{"a":9}""" },
        { """{"$defs":{"inner":{"$id":"http://example.com/inner/","$defs":{"s":{"type":"string"}},"properties":{"x":{"$ref":"#/$defs/s"}}}},"properties":{"i":{"$ref":"http://example.com/inner/"}}}""", """{"i":{"x":"s"}}""", """{"i":{"x":2}}""" },
        { """{"$ref":"https://json-schema.org/draft/2020-12/schema"}""", """{"type":"string"}""", """{"type":12}""" },
        // $ref written before $id still resolves against that $id.
        { """{"properties":{"a":{"$ref":"#/$defs/i","$id":"http://example.com/a.json","$defs":{"i":{"type":"integer"}}}}}""", """{"a":1}""", """{"a":"x"}""" },
        { """{"$dynamicAnchor":"node","type":"object","properties":{"next":{"$dynamicRef":"#node"},"v":{"type":"integer"}}}""", """{"v":1,"next":{"v":2}}""", """{"v":1,"next":{"v":"x"}}""" },
    };

    [Theory]
    [MemberData(nameof(Resolvable))]
    public void Read_SelfContainedReferences_AcceptedAndFollowed(string schema, string valid, string invalid)
    {
        var expectation = Read(schema, out var error);

        Assert.True(expectation is not null, error);
        Assert.Equal(Verdict.Passed, Check(expectation, valid));
        Assert.Equal(Verdict.Failed, Check(expectation, invalid));
    }

    [Theory]
    [InlineData("""{"properties":{"a":{"$dynamicRef":"#nowhere"}}}""", "$dynamicRef '#nowhere'")]
    [InlineData("""{"$dynamicRef":"https://example.com/other.json#node"}""", "$dynamicRef 'https://example.com/other.json#node'")]
    [InlineData("""{"$dynamicRef":"https://json-schema.org/draft/2020-12/schema#meta"}""", "$dynamicRef 'https://json-schema.org/draft/2020-12/schema#meta'")]
    [InlineData("""{"$ref":"other.json"}""", "$ref 'other.json'")]
    [InlineData("""{"$id":"http://example.com/","$ref":"#/$defs/missing"}""", "$ref '#/$defs/missing'")]
    [InlineData("""{"allOf":[{"$ref":"#"}]}""", "refers back to itself")]
    [InlineData("""{"$defs":{"a":{"anyOf":[{"type":"null"},{"$ref":"#/$defs/b"}]},"b":{"not":{"$ref":"#/$defs/a"}}},"$ref":"#/$defs/a"}""", "refers back to itself")]
    public void Read_ReferenceEvaluationCouldNotFollow_RefusedNamingIt(string schema, string mention)
    {
        Assert.Null(Read(schema, out var error));
        Assert.Contains(mention, error, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_RecursionThroughAProperty_Accepted()
    {
        var expectation = Read("""{"$defs":{"n":{"type":"object","properties":{"next":{"$ref":"#/$defs/n"}},"additionalProperties":false}},"$ref":"#/$defs/n"}""", out var error);

        Assert.True(expectation is not null, error);
        Assert.Equal(Verdict.Failed, Check(expectation, """{"next":{"next":{"x":1}}}"""));
    }
}
