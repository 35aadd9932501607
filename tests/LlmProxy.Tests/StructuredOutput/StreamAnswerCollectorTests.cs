using System.Text;
using System.Text.Json;
using LlmProxy.StructuredOutput;

namespace LlmProxy.Tests.StructuredOutput;

public sealed class StreamAnswerCollectorTests
{
    [Fact]
    public void ToCompletion_ToolCallDeltasByIndex_ArgumentsConcatenatedPerCall()
    {
        var collector = new StreamAnswerCollector();
        string[] chunks =
        [
            """{"choices":[{"index":0,"delta":{"role":"assistant","tool_calls":[{"index":0,"id":"call_1","type":"function","function":{"name":"get_weather","arguments":""}}]}}]}""",
            """{"choices":[{"index":0,"delta":{"tool_calls":[{"index":1,"id":"call_2","type":"function","function":{"name":"get_time","arguments":"{\"tz\":"}}]}}]}""",
            """{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"city\":"}}]}}]}""",
            """{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"\"Paris\"}"}}]}}]}""",
            """{"choices":[{"index":0,"delta":{"tool_calls":[{"index":1,"function":{"arguments":"\"UTC\"}"}}]}}]}""",
            """{"choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]}""",
            """{"choices":[],"usage":{"prompt_tokens":1,"completion_tokens":2,"total_tokens":3}}""",
        ];
        foreach (var chunk in chunks)
        {
            collector.Add(Encoding.UTF8.GetBytes(chunk));
        }

        using var completion = JsonDocument.Parse(collector.ToCompletion());

        var choice = completion.RootElement.GetProperty("choices")[0];
        Assert.Equal("tool_calls", choice.GetProperty("finish_reason").GetString());
        var calls = choice.GetProperty("message").GetProperty("tool_calls");
        Assert.Equal("get_weather", calls[0].GetProperty("function").GetProperty("name").GetString());
        Assert.Equal("""{"city":"Paris"}""", calls[0].GetProperty("function").GetProperty("arguments").GetString());
        Assert.Equal("""{"tz":"UTC"}""", calls[1].GetProperty("function").GetProperty("arguments").GetString());
        Assert.False(collector.Incomplete);
    }

    [Fact]
    public void Add_NotJson_MarksIncomplete()
    {
        var collector = new StreamAnswerCollector();

        collector.Add("{\"choices\":["u8);

        Assert.True(collector.Incomplete);
    }
}
