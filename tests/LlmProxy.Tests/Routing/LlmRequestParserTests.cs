using System.Text;
using LlmProxy.Routing;

namespace LlmProxy.Tests.Routing;

public sealed class LlmRequestParserTests
{
    [Theory]
    [InlineData("""{"model":"gpt-4o"}""", "gpt-4o", false)]
    [InlineData("""{"messages":[{"role":"user","content":"{\"model\":\"x\"}"}],"model":"m","stream":true}""", "m", true)]
    [InlineData("""{"stream":false,"model":"m"}""", "m", false)]
    [InlineData("""{"stream":null,"model":"m"}""", "m", false)]
    [InlineData("""  {"model" : "a\u0062c" , "n":[1,{"model":"nested"}]}  """, "abc", false)]
    [InlineData("""{"model":"meta-llama/Llama-3.1-8B"}""", "meta-llama/Llama-3.1-8B", false)]
    public void TryParse_ValidBody_ReadsModelAndStream(string body, string model, bool stream)
    {
        var bytes = Encoding.UTF8.GetBytes(body);

        var failure = LlmRequestParser.TryParse(bytes, out var info);

        Assert.Equal(LlmRequestParser.Failure.None, failure);
        Assert.Equal(model, info.Model);
        Assert.Equal(stream, info.Stream);
    }

    [Theory]
    [InlineData("""{"model":"gpt-4o"}""")]
    [InlineData("""{"x":1, "model" :  "a\"b\u00e9" ,"y":2}""")]
    public void TryParse_ValidBody_ModelTokenSpansTheQuotedLiteral(string body)
    {
        var bytes = Encoding.UTF8.GetBytes(body);

        LlmRequestParser.TryParse(bytes, out var info);

        var token = Encoding.UTF8.GetString(bytes, info.ModelTokenStart, info.ModelTokenLength);
        Assert.StartsWith("\"", token, StringComparison.Ordinal);
        Assert.EndsWith("\"", token, StringComparison.Ordinal);
        Assert.Equal(info.Model, System.Text.Json.JsonSerializer.Deserialize<string>(token));
    }

    [Theory]
    [InlineData("", LlmRequestParser.Failure.MalformedJson)]
    [InlineData("{", LlmRequestParser.Failure.MalformedJson)]
    [InlineData("[]", LlmRequestParser.Failure.MalformedJson)]
    [InlineData("null", LlmRequestParser.Failure.MalformedJson)]
    [InlineData("""{"model":"m"}{}""", LlmRequestParser.Failure.MalformedJson)]
    [InlineData("""{"model":"m",}""", LlmRequestParser.Failure.MalformedJson)]
    [InlineData("""{/*c*/"model":"m"}""", LlmRequestParser.Failure.MalformedJson)]
    [InlineData("""{}""", LlmRequestParser.Failure.MissingModel)]
    [InlineData("""{"Model":"m"}""", LlmRequestParser.Failure.MissingModel)]
    [InlineData("""{"model":1}""", LlmRequestParser.Failure.InvalidModel)]
    [InlineData("""{"model":""}""", LlmRequestParser.Failure.InvalidModel)]
    [InlineData("""{"model":{"id":"m"}}""", LlmRequestParser.Failure.InvalidModel)]
    [InlineData("""{"model":"a","model":"b"}""", LlmRequestParser.Failure.InvalidModel)]
    [InlineData("""{"model":"a","stream":"true"}""", LlmRequestParser.Failure.InvalidStream)]
    [InlineData("""{"model":"a","stream":[true]}""", LlmRequestParser.Failure.InvalidStream)]
    [InlineData("""{"model":1,"x":}""", LlmRequestParser.Failure.MalformedJson)]
    public void TryParse_InvalidBody_ReportsWhy(string body, LlmRequestParser.Failure expected)
    {
        Assert.Equal(expected, LlmRequestParser.TryParse(Encoding.UTF8.GetBytes(body), out _));
    }

    [Fact]
    public void TryParse_InvalidUtf8InString_IsMalformed()
    {
        byte[] body = [.. "{\"model\":\"m\",\"x\":\""u8, 0xff, 0xfe, .. "\"}"u8];

        Assert.Equal(LlmRequestParser.Failure.MalformedJson, LlmRequestParser.TryParse(body, out _));
    }

    [Fact]
    public void TryParse_NestingDeeperThanLimit_IsMalformedNotThrown()
    {
        var body = Encoding.UTF8.GetBytes("{\"model\":\"m\",\"x\":" + new string('[', 1000) + new string(']', 1000) + "}");

        Assert.Equal(LlmRequestParser.Failure.MalformedJson, LlmRequestParser.TryParse(body, out _));
    }

    [Theory]
    [InlineData(63, LlmRequestParser.Failure.None)]
    [InlineData(64, LlmRequestParser.Failure.MalformedJson)]
    public void TryParse_NestingAtTheLimit_ParsesAndOneMoreIsMalformed(int arrays, LlmRequestParser.Failure expected)
    {
        // The root object is one level: 63 arrays inside it make 64.
        var body = Encoding.UTF8.GetBytes("{\"model\":\"m\",\"x\":" + new string('[', arrays) + new string(']', arrays) + "}");

        Assert.Equal(expected, LlmRequestParser.TryParse(body, out _));
    }

    [Theory]
    [InlineData("""{"model":"m\udc00"}""")]
    [InlineData("""{"model":"m","k\ud800":1}""")]
    [InlineData("""{"model":"m","x":"\ud800\u0041"}""")]
    [InlineData("""{"model":"m","x":["\\\udfff"]}""")]
    public void TryParse_LoneSurrogateEscape_IsMalformed(string body)
    {
        Assert.Equal(LlmRequestParser.Failure.MalformedJson, LlmRequestParser.TryParse(Encoding.UTF8.GetBytes(body), out _));
    }

    [Theory]
    [InlineData("""{"model":"m","x":"\ud83d\ude00"}""")]
    [InlineData("""{"model":"m","x":"\\udc00"}""")]
    [InlineData("""{"model":"m","x":"\\\\ud800"}""")]
    public void TryParse_PairedOrEscapedBackslash_Parses(string body)
    {
        Assert.Equal(LlmRequestParser.Failure.None, LlmRequestParser.TryParse(Encoding.UTF8.GetBytes(body), out _));
    }

    [Theory]
    [InlineData("""{"model":"m","stream":true,"stream":false}""", "stream")]
    [InlineData("""{"model":"m","tools":[],"tools":[]}""", "tools")]
    [InlineData("""{"model":"m","n":1,"\u006e":2}""", "n")]
    [InlineData("""{"model":"m","max_completion_tokens":1,"max_completion_tokens":2}""", "max_completion_tokens")]
    public void TryParse_ReadPropertyTwice_IsDuplicateNamingIt(string body, string name)
    {
        Assert.Equal(LlmRequestParser.Failure.DuplicateProperty, LlmRequestParser.TryParse(Encoding.UTF8.GetBytes(body), out _, out var param));
        Assert.Equal(name, param);
    }

    [Fact]
    public void TryParse_UnreadPropertyTwice_IsLeftToTheProvider()
    {
        Assert.Equal(LlmRequestParser.Failure.None, LlmRequestParser.TryParse("""{"model":"m","user":"a","user":"b"}"""u8, out _));
    }
}
