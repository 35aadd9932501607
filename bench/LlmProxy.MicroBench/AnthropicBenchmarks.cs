using System.Buffers;
using System.Text;
using BenchmarkDotNet.Attributes;
using LlmProxy.Providers.Anthropic;

namespace LlmProxy.MicroBench;

/// <summary>
/// What an Anthropic target costs on top of an OpenAI-shaped one, per request (the request and the non-streamed answer
/// translated) and per streamed event (one text delta, the most common event). The OpenAI-shaped path does none of this.
/// </summary>
[MemoryDiagnoser]
public class AnthropicBenchmarks
{
    private static readonly byte[] Request = Encoding.UTF8.GetBytes(
        "{\"model\":\"bench-model\",\"messages\":[{\"role\":\"system\",\"content\":\"You are a helpful assistant.\"},{\"role\":\"user\",\"content\":\""
        + new string('x', 900) + "\"}],\"max_tokens\":256,\"temperature\":0.7,\"stream\":false}");

    private static readonly byte[] Answer = Encoding.UTF8.GetBytes(
        "{\"id\":\"msg_01XFDUDYJgAACzvnptvVoYEL\",\"type\":\"message\",\"role\":\"assistant\",\"model\":\"claude-sonnet-4-5\",\"content\":[{\"type\":\"text\",\"text\":\""
        + new string('y', 800) + "\"}],\"stop_reason\":\"end_turn\",\"stop_sequence\":null,\"usage\":{\"input_tokens\":250,\"cache_read_input_tokens\":0,\"output_tokens\":200}}");

    private static readonly byte[] TextDelta = """{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":" token"}}"""u8.ToArray();
    private static readonly byte[] Start = """{"type":"message_start","message":{"id":"msg_1","model":"claude-sonnet-4-5","usage":{"input_tokens":250,"output_tokens":1}}}"""u8.ToArray();

    private readonly ArrayBufferWriter<byte> _output = new(4096);
    private AnthropicStreamTranslator _stream = null!;

    [GlobalSetup]
    public void Setup()
    {
        _stream = new AnthropicStreamTranslator(null, 1);
        _stream.Translate("message_start", Start, _output);
    }

    [Benchmark]
    public int TranslateRequest() => AnthropicRequest.Translate(Request, "claude-sonnet-4-5", 4096).Body!.Length;

    [Benchmark]
    public int TranslateAnswer() => AnthropicResponse.Translate(Answer, null, 1)!.Value.OpenAIBody.Length;

    [Benchmark]
    public int TranslateTextDeltaEvent()
    {
        _output.ResetWrittenCount();
        _stream.Translate("content_block_delta", TextDelta, _output);
        return _output.WrittenCount;
    }
}
