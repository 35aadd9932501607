using System.Text;
using System.Text.Json;
using LlmProxy.Configuration;
using LlmProxy.StructuredOutput;

namespace LlmProxy.Tests.StructuredOutput;

public sealed class AnswerValidatorTests
{
    private static OutputExpectation Expect(string? schema = null, bool jsonObject = false, string? tools = null)
    {
        var body = new StringBuilder("{\"model\":\"m\"");
        if (schema is not null)
        {
            body.Append(",\"response_format\":{\"type\":\"json_schema\",\"json_schema\":{\"name\":\"s\",\"strict\":true,\"schema\":").Append(schema).Append("}}");
        }
        else if (jsonObject)
        {
            body.Append(",\"response_format\":{\"type\":\"json_object\"}");
        }

        if (tools is not null)
        {
            body.Append(",\"tools\":").Append(tools);
        }

        body.Append('}');
        var bytes = Encoding.UTF8.GetBytes(body.ToString());
        Assert.Equal(LlmProxy.Routing.LlmRequestParser.Failure.None, LlmProxy.Routing.LlmRequestParser.TryParse(bytes, out var info));
        var expectation = OutputExpectation.Read(new SchemaCache(), bytes, info.ResponseFormat, info.Tools, StructuredOutputPolicy.Annotate, out var error, out _);
        Assert.True(expectation is not null, error);
        return expectation;
    }

    private static string Answer(string content, string finish = "stop")
        => JsonSerializer.Serialize(new { id = "c", choices = new[] { new { index = 0, message = new { role = "assistant", content }, finish_reason = finish } } });

    private static Verdict Check(OutputExpectation expectation, string answer) => AnswerValidator.Validate(Encoding.UTF8.GetBytes(answer), expectation);

    public static TheoryData<string, string, string, string?> Keywords => new()
    {
        // schema, instance, expected result, failing keyword
        { """{"type":"object","properties":{"a":{"type":["string","null"]}},"required":["a"],"additionalProperties":false}""", """{"a":null}""", "passed", null },
        { """{"type":"object","properties":{"a":{"type":["string","null"]}},"required":["a"],"additionalProperties":false}""", """{"a":1}""", "failed", "type" },
        { """{"type":"object","properties":{"a":{"type":"string"}},"required":["a"]}""", """{}""", "failed", "required" },
        { """{"type":"object","properties":{"a":{"type":"string"}},"additionalProperties":false}""", """{"a":"x","b":1}""", "failed", "additionalProperties" },
        { """{"type":"object","properties":{"c":{"enum":["red","blue"]}}}""", """{"c":"red"}""", "passed", null },
        { """{"type":"object","properties":{"c":{"enum":["red","blue"]}}}""", """{"c":"green"}""", "failed", "enum" },
        { """{"type":"object","properties":{"k":{"const":"circle"}}}""", """{"k":"square"}""", "failed", "const" },
        { """{"type":"object","properties":{"s":{"anyOf":[{"type":"object","properties":{"k":{"const":"a"},"r":{"type":"number"}},"required":["k","r"]},{"type":"object","properties":{"k":{"const":"b"},"w":{"type":"number"}},"required":["k","w"]}]}}}""", """{"s":{"k":"b","w":2}}""", "passed", null },
        { """{"type":"object","properties":{"s":{"anyOf":[{"type":"object","properties":{"k":{"const":"a"},"r":{"type":"number"}},"required":["k","r"]},{"type":"object","properties":{"k":{"const":"b"},"w":{"type":"number"}},"required":["k","w"]}]}}}""", """{"s":{"k":"b","r":2}}""", "failed", null },
        { """{"type":"object","properties":{"n":{"$ref":"#/$defs/node"}},"$defs":{"node":{"type":"object","properties":{"v":{"type":"integer"},"next":{"anyOf":[{"$ref":"#/$defs/node"},{"type":"null"}]}},"required":["v","next"],"additionalProperties":false}}}""", """{"n":{"v":1,"next":{"v":2,"next":null}}}""", "passed", null },
        { """{"type":"object","properties":{"n":{"$ref":"#/$defs/node"}},"$defs":{"node":{"type":"object","properties":{"v":{"type":"integer"},"next":{"anyOf":[{"$ref":"#/$defs/node"},{"type":"null"}]}},"required":["v","next"],"additionalProperties":false}}}""", """{"n":{"v":1,"next":{"v":"two","next":null}}}""", "failed", null },
        { """{"type":"object","properties":{"l":{"type":"array","items":{"type":"integer"},"minItems":1,"maxItems":2}}}""", """{"l":[1,2]}""", "passed", null },
        { """{"type":"object","properties":{"l":{"type":"array","items":{"type":"integer"}}}}""", """{"l":[1,"x"]}""", "failed", "type" },
        { """{"type":"object","properties":{"l":{"type":"array","minItems":1}}}""", """{"l":[]}""", "failed", "minItems" },
        { """{"type":"object","properties":{"l":{"type":"array","maxItems":1}}}""", """{"l":[1,2]}""", "failed", "maxItems" },
        { """{"type":"object","properties":{"z":{"type":"string","pattern":"^[0-9]{5}$"}}}""", """{"z":"12345"}""", "passed", null },
        { """{"type":"object","properties":{"z":{"type":"string","pattern":"^[0-9]{5}$"}}}""", """{"z":"1234a"}""", "failed", "pattern" },
        { """{"type":"object","properties":{"e":{"type":"string","format":"email"}}}""", """{"e":"not-an-email"}""", "failed", "format" },
        { """{"type":"object","properties":{"d":{"type":"string","format":"date-time"}}}""", """{"d":"2026-11-25T10:00:00Z"}""", "passed", null },
        { """{"type":"object","properties":{"d":{"type":"string","format":"date-time"}}}""", """{"d":"yesterday"}""", "failed", "format" },
        { """{"type":"object","properties":{"x":{"type":"number","minimum":0,"maximum":10}}}""", """{"x":11}""", "failed", "maximum" },
        { """{"type":"object","properties":{"x":{"type":"number","exclusiveMinimum":0}}}""", """{"x":0}""", "failed", "exclusiveMinimum" },
        { """{"type":"object","properties":{"x":{"type":"integer","multipleOf":5}}}""", """{"x":12}""", "failed", "multipleOf" },
        { """{"type":"object","properties":{"t":{"type":"string","minLength":2,"maxLength":3}}}""", """{"t":"abcd"}""", "failed", "maxLength" },
        { """{"type":"object","properties":{"t":{"type":"string","minLength":2}}}""", """{"t":"a"}""", "failed", "minLength" },
    };

    [Theory]
    [MemberData(nameof(Keywords))]
    public void Validate_StrictModeKeyword_PassesOrNamesTheKeyword(string schema, string instance, string expected, string? keyword)
    {
        var verdict = Check(Expect(schema), Answer(instance));

        Assert.Equal(expected, verdict.Result);
        if (keyword is not null)
        {
            Assert.Contains(verdict.Violations, v => v.Keyword == keyword && v.Path.StartsWith("/choices/0/message/content", StringComparison.Ordinal));
        }
    }

    [Fact]
    public void Validate_Failure_ViolationPathPointsIntoTheContent()
    {
        var verdict = Check(Expect("""{"type":"object","properties":{"p":{"type":"object","properties":{"age":{"type":"integer"}}}}}"""), Answer("""{"p":{"age":"old"}}"""));

        var violation = Assert.Single(verdict.Violations);
        Assert.Equal("/choices/0/message/content/p/age", violation.Path);
        Assert.Equal("type", violation.Keyword);
    }

    [Theory]
    [InlineData("""{"a":1}""", "passed")]
    [InlineData("""[1,2]""", "failed")]
    [InlineData("""{"a":""", "failed")]
    public void Validate_JsonObjectFormat_ContentMustBeAnObject(string content, string expected)
    {
        Assert.Equal(expected, Check(Expect(jsonObject: true), Answer(content)).Result);
    }

    [Theory]
    [InlineData("length")]
    [InlineData("content_filter")]
    public void Validate_CutOrFilteredAnswer_SkippedWithTheReason(string finish)
    {
        var verdict = Check(Expect(jsonObject: true), Answer("""{"a":""", finish));

        Assert.Equal("skipped", verdict.Result);
        Assert.Equal($"finish_reason {finish}", verdict.SkipReason);
    }

    [Fact]
    public void Validate_Refusal_Skipped()
    {
        var answer = """{"choices":[{"index":0,"message":{"role":"assistant","content":null,"refusal":"I can't help with that."},"finish_reason":"stop"}]}""";

        var verdict = Check(Expect("""{"type":"object"}"""), answer);

        Assert.Equal("skipped", verdict.Result);
        Assert.Equal("refusal", verdict.SkipReason);
    }

    private const string Tools = """[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"],"additionalProperties":false}}}]""";

    [Theory]
    [InlineData("get_weather", """{"city":"Paris"}""", "passed", null)]
    [InlineData("get_weather", """{"town":"Paris"}""", "failed", "additionalProperties")]
    [InlineData("get_weather", """{"city":""", "failed", "json")]
    [InlineData("launch_rocket", """{}""", "failed", "tools")]
    public void Validate_ToolCalls_NameAndArgumentsChecked(string name, string arguments, string expected, string? keyword)
    {
        var answer = JsonSerializer.Serialize(new
        {
            choices = new[] { new { index = 0, message = new { role = "assistant", content = (string?)null, tool_calls = new[] { new { id = "call_1", type = "function", function = new { name, arguments } } } }, finish_reason = "tool_calls" } },
        });

        var verdict = Check(Expect(tools: Tools), answer);

        Assert.Equal(expected, verdict.Result);
        if (keyword is not null)
        {
            Assert.Contains(verdict.Violations, v => v.Keyword == keyword && v.Path.StartsWith("/choices/0/message/tool_calls/0/function", StringComparison.Ordinal));
        }
    }

    [Fact]
    public void Validate_EmptyContentBesideToolCalls_ContentNotChecked()
    {
        var answer = JsonSerializer.Serialize(new
        {
            choices = new[] { new { index = 0, message = new { role = "assistant", content = "", tool_calls = new[] { new { id = "call_1", type = "function", function = new { name = "get_weather", arguments = """{"city":"Paris"}""" } } } }, finish_reason = "tool_calls" } },
        });

        Assert.Equal("passed", Check(Expect("""{"type":"object"}""", tools: Tools), answer).Result);
    }

    [Theory]
    [InlineData("""{"type":"object","properties":{"a":{"type":"string","pattern":"("}}}""", "pattern")]
    [InlineData("""{"type":"object","properties":{"a":{"$ref":"#/$defs/missing"}}}""", "$ref '#/$defs/missing'")]
    [InlineData("""{"$ref":"https://example.com/schema.json"}""", "$ref 'https://example.com/schema.json'")]
    [InlineData("""{"type":"objec"}""", "objec")]
    public void Read_UnusableSchema_ErrorForTheClient(string schema, string mention)
    {
        var body = Encoding.UTF8.GetBytes("{\"model\":\"m\",\"response_format\":{\"type\":\"json_schema\",\"json_schema\":{\"name\":\"s\",\"schema\":" + schema + "}}}");
        LlmProxy.Routing.LlmRequestParser.TryParse(body, out var info);

        var expectation = OutputExpectation.Read(new SchemaCache(), body, info.ResponseFormat, info.Tools, StructuredOutputPolicy.Annotate, out var error, out var param);

        Assert.Null(expectation);
        Assert.Contains(mention, error, StringComparison.Ordinal);
        Assert.Equal("response_format.json_schema.schema", param);
    }

    [Fact]
    public void Validate_PatternRunsPastItsLimit_FailedNamingThePattern()
    {
        // The lookahead keeps this pattern on the backtracking engine, where its nested quantifier is catastrophic.
        var expectation = Expect("""{"type":"object","properties":{"s":{"type":"string","pattern":"^(?=(a+)+$)"}}}""");

        var verdict = Check(expectation, Answer("{\"s\":\"" + new string('a', 40) + "!\"}"));

        Assert.Equal("failed", verdict.Result);
        var violation = Assert.Single(verdict.Violations);
        Assert.Equal(("/choices/0/message/content", "pattern"), (violation.Path, violation.Keyword));
        Assert.Contains("250 ms", violation.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_PatternInsideConst_DataLeftAsWritten()
    {
        var expectation = Expect("""{"type":"object","properties":{"p":{"const":{"pattern":"^a$"}}}}""");

        Assert.Equal("passed", Check(expectation, Answer("""{"p":{"pattern":"^a$"}}""")).Result);
    }

    [Theory]
    [InlineData("""{"type":"number","multipleOf":0.5}""", "1e9999999")]
    [InlineData("""{"type":"number","multipleOf":0.5}""", "-1.5e-9999999")]
    [InlineData("""{"type":"object","properties":{"n":{"multipleOf":3}}}""", "{\"n\":1e4000}")]
    public void Validate_NumberTooLargeToCheck_FailedWithoutEvaluating(string schema, string content)
    {
        // Evaluating multipleOf on such a number would overflow the stack and end the process.
        var verdict = Check(Expect(schema), Answer(content));

        Assert.Equal("failed", verdict.Result);
        Assert.Equal("number", Assert.Single(verdict.Violations).Keyword);
    }

    [Theory]
    [InlineData("""{"type":"object","properties":{"n":{"const":1}}}""", "{\"n\":1e308}")]
    [InlineData("""{"type":"object","properties":{"n":{"enum":[1,2]}}}""", "{\"n\":123456789012345678901234567890123}")]
    public void Validate_NumberBeyondExactComparison_FailedNotThrown(string schema, string content)
    {
        var verdict = Check(Expect(schema), Answer(content));

        Assert.Equal("failed", verdict.Result);
        Assert.Equal("number", Assert.Single(verdict.Violations).Keyword);
    }

    [Theory]
    [InlineData("""{"type":"number","multipleOf":1e-9999999}""")]
    [InlineData("""{"type":"number","maximum":1e99999}""")]
    public void Read_SchemaNumberTooLargeToCheckWith_ErrorForTheClient(string schema)
    {
        var body = Encoding.UTF8.GetBytes("{\"model\":\"m\",\"response_format\":{\"type\":\"json_schema\",\"json_schema\":{\"name\":\"s\",\"schema\":" + schema + "}}}");
        LlmProxy.Routing.LlmRequestParser.TryParse(body, out var info);

        var expectation = OutputExpectation.Read(new SchemaCache(), body, info.ResponseFormat, info.Tools, StructuredOutputPolicy.Annotate, out var error, out _);

        Assert.Null(expectation);
        Assert.Contains("too large", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_CatastrophicPatternOverManyValues_LinearEngineKeepsItFast()
    {
        // On a backtracking engine each value takes nearly the 250 ms limit, so 100 of them took 13 s and passed.
        var expectation = Expect("""{"type":"object","properties":{"l":{"type":"array","items":{"not":{"pattern":"^(\\w+\\s?)*$"}}}}}""");
        var values = string.Join(",", Enumerable.Repeat("\"aaaaaaaaaaaaaaaaaaa!\"", 100));
        var clock = System.Diagnostics.Stopwatch.StartNew();

        var verdict = Check(expectation, Answer("{\"l\":[" + values + "]}"));

        Assert.Equal("passed", verdict.Result);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(2), $"took {clock.Elapsed}");
    }
}
