using System.Text;
using System.Text.Json;
using LlmProxy.StructuredOutput;

namespace LlmProxy.Tests.StructuredOutput;

public sealed class RepairTurnTests
{
    private static readonly InvalidAnswer Invalid = new(
        Encoding.UTF8.GetBytes("""{"choices":[{"index":0,"message":{"role":"assistant","content":"{\"name\":\"Ada\"}"}}]}"""),
        [new Violation("/choices/0/message/content", "required", "age is required")]);

    [Fact]
    public void Append_ChatBody_InvalidAnswerAndViolationsAppended()
    {
        var body = Append("""{"model":"m","messages":[{"role":"user","content":"who?"}]}""");

        using var request = JsonDocument.Parse(body!);
        var messages = request.RootElement.GetProperty("messages");
        Assert.Equal(3, messages.GetArrayLength());
        Assert.Equal("assistant", messages[1].GetProperty("role").GetString());
        Assert.Equal("""{"name":"Ada"}""", messages[1].GetProperty("content").GetString());
        Assert.Contains("/choices/0/message/content required", messages[2].GetProperty("content").GetString(), StringComparison.Ordinal);
        Assert.Equal("m", request.RootElement.GetProperty("model").GetString());
    }

    [Theory]
    [InlineData("""{"model":"m","temperature":1,"temperature":1,"messages":[]}""")]
    [InlineData("""{"model":"m","prompt":"x"}""")]
    public void Append_BodyWithoutUsableMessages_Null(string body) => Assert.Null(Append(body));

    private static byte[]? Append(string body) => RepairTurn.Append(Encoding.UTF8.GetBytes(body), Invalid);
}
