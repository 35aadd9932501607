using System.Text;
using LlmProxy.Providers.Anthropic;
using LlmProxy.Tests.Fakes;
using LlmProxy.Usage;

namespace LlmProxy.Tests.Providers.Anthropic;

public sealed class AnthropicTranslatorTests
{
    [Fact]
    public void TranslateResponse_Message_BodyAndTheUsageAsAValue()
    {
        var answer = new AnthropicTranslator().TranslateResponse("""
            {"id":"msg_1","type":"message","role":"assistant","model":"claude-x","content":[{"type":"text","text":"Hi"}],"stop_reason":"end_turn",
             "usage":{"input_tokens":25,"cache_creation_input_tokens":5,"cache_read_input_tokens":10,"output_tokens":12}}
            """u8, TestRequests.Metered(), 1);

        Assert.NotNull(answer);
        Assert.Equal(new TokenUsage(40, 12, 10, 0, Estimated: false), answer.Value.Usage);
        Assert.Contains("\"content\":\"Hi\"", Encoding.UTF8.GetString(answer.Value.Body), StringComparison.Ordinal);
    }

    [Fact]
    public void TranslateResponse_UndecodableString_Null()
        => Assert.Null(new AnthropicTranslator().TranslateResponse("""{"type":"message","content":[{"type":"text","text":"\ud800"}]}"""u8, TestRequests.Metered(), 1));
}
