using System.Text;
using System.Text.Json;
using LlmProxy.Configuration;
using LlmProxy.Routing;
using LlmProxy.StructuredOutput;

namespace LlmProxy.Tests.StructuredOutput;

public sealed class StrictFormatsTests
{
    private static string Check(string format, string value)
    {
        var body = Encoding.UTF8.GetBytes("""{"model":"m","response_format":{"type":"json_schema","json_schema":{"name":"s","schema":{"format":""" + JsonSerializer.Serialize(format) + "}}}}");
        Assert.Equal(LlmRequestParser.Failure.None, LlmRequestParser.TryParse(body, out var info));
        var expectation = OutputExpectation.Read(new SchemaCache(), body, info.ResponseFormat, info.Tools, StructuredOutputPolicy.Reject, out var error, out _);
        Assert.True(expectation is not null, error);
        var content = JsonSerializer.Serialize(value);
        return AnswerValidator.Validate(JsonSerializer.SerializeToUtf8Bytes(new { choices = new[] { new { index = 0, message = new { role = "assistant", content }, finish_reason = "stop" } } }), expectation).Result;
    }

    [Theory]
    [InlineData("date-time", "1985-04-12T23:20:50Z\n")]
    [InlineData("date-time", "1998-12-31T22:59:60Z")]
    [InlineData("date", "2021-02-29")]
    [InlineData("time", "23:59:60+01:00")]
    [InlineData("uuid", "2eb8aa08-aa98-11ea-b4aa-73b441d16380\n")]
    [InlineData("hostname", "example.com\n")]
    [InlineData("hostname", "xn--X")]
    [InlineData("hostname", "xn--al-0ea")]
    [InlineData("hostname", "xn--chb89f")]
    [InlineData("hostname", "xn--11b2er09f")]
    [InlineData("hostname", "xn--ngb6iyr")]
    [InlineData("duration", "P1D\n")]
    [InlineData("duration", " P1D")]
    [InlineData("duration", "P1D ")]
    [InlineData("duration", "P1Y2D")]
    [InlineData("duration", "PT1H2S")]
    [InlineData("duration", "P1WT1H")]
    [InlineData("duration", "P0Y1W")]
    [InlineData("ipv6", "[::1]")]
    [InlineData("ipv6", "::ffff:192.168.0.01")]
    [InlineData("ipv6", "fe80::a%eth1")]
    [InlineData("ipv4", "192.168.0.1\n")]
    [InlineData("ipv4", "127.1")]
    [InlineData("email", "joe.bloggs@example.com\n")]
    [InlineData("email", "te..st@example.com")]
    public void Validate_NotOfTheFormat_Failed(string format, string value)
    {
        Assert.Equal(Verdict.Failed, Check(format, value));
    }

    [Theory]
    [InlineData("date-time", "1998-12-31T15:59:60.123-08:00")]
    [InlineData("date", "0400-02-29")]
    [InlineData("time", "08:30:06z")]
    [InlineData("uuid", "2EB8AA08-AA98-11EA-B4AA-73B441D16380")]
    [InlineData("hostname", "xn--9n2bp8q.xn--9t4b11yi5a")]
    [InlineData("hostname", "xn--zca29lwxobi7a")]
    [InlineData("hostname", "xn--ll-0ea")]
    [InlineData("hostname", "xn--11b2ezcs70k")]
    [InlineData("hostname", "xn--ngba5hb2804a")]
    [InlineData("hostname", "a--b.com")]
    [InlineData("duration", "P1Y2M3DT4H5M6S")]
    [InlineData("duration", "PT36H")]
    [InlineData("duration", "P2W")]
    [InlineData("ipv6", "1::d6:192.168.0.1")]
    [InlineData("ipv4", "255.255.255.255")]
    [InlineData("email", "\"joe@bloggs\"@example.com")]
    [InlineData("email", "joe.bloggs@[IPv6:::1]")]
    public void Validate_OfTheFormat_Passed(string format, string value)
    {
        Assert.Equal(Verdict.Passed, Check(format, value));
    }
}
