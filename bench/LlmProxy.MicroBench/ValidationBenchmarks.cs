using System.Text;
using System.Text.Json;
using BenchmarkDotNet.Attributes;
using LlmProxy.Configuration;
using LlmProxy.Routing;
using LlmProxy.StructuredOutput;

namespace LlmProxy.MicroBench;

/// <summary>
/// Structured-output validation of one non-streamed answer: a ~2 KB chat completion whose content must satisfy a
/// 15-property strict schema (strings, integers, numbers with bounds, enum, pattern, format, array of objects).
/// </summary>
[MemoryDiagnoser]
public class ValidationBenchmarks
{
    private OutputExpectation _expectation = null!;
    private byte[] _valid = null!;
    private byte[] _invalid = null!;
    private byte[] _request = null!;
    private LlmRequestInfo _info;
    private readonly SchemaCache _schemas = new();

    [GlobalSetup]
    public void Setup()
    {
        const string Schema = """
            {"type":"object","additionalProperties":false,
             "required":["id","name","email","age","score","status","country","city","zip","created","tags","notes","active","ratio","items"],
             "properties":{
              "id":{"type":"string","pattern":"^[A-Z]{3}-[0-9]{6}$"},"name":{"type":"string","minLength":1,"maxLength":200},
              "email":{"type":"string","format":"email"},"age":{"type":"integer","minimum":0,"maximum":150},
              "score":{"type":"number","minimum":0,"maximum":100},"status":{"enum":["active","suspended","closed"]},
              "country":{"type":"string","minLength":2,"maxLength":2},"city":{"type":"string"},"zip":{"type":"string","pattern":"^[0-9]{5}$"},
              "created":{"type":"string","format":"date-time"},"tags":{"type":"array","items":{"type":"string"},"maxItems":20},
              "notes":{"type":["string","null"]},"active":{"type":"boolean"},"ratio":{"type":"number"},
              "items":{"type":"array","items":{"type":"object","additionalProperties":false,"required":["sku","qty","price"],
                "properties":{"sku":{"type":"string"},"qty":{"type":"integer","minimum":1},"price":{"type":"number","minimum":0}}}}}}
            """;
        _request = Encoding.UTF8.GetBytes("""{"model":"m","messages":[],"response_format":{"type":"json_schema","json_schema":{"name":"record","strict":true,"schema":""" + Schema + "}}}");
        LlmRequestParser.TryParse(_request, out _info);
        _expectation = OutputExpectation.Read(_schemas, _request, _info.ResponseFormat, _info.Tools, StructuredOutputPolicy.Annotate, out _, out _)!;
        var items = string.Join(",", Enumerable.Range(0, 12).Select(static i => $$"""{"sku":"SKU-{{i:0000}}","qty":{{i + 1}},"price":{{i * 3.5 + 1}}}"""));
        var content = $$"""{"id":"ABC-123456","name":"Ada Lovelace","email":"ada@example.com","age":36,"score":97.5,"status":"active","country":"GB","city":"London","zip":"12345","created":"2026-11-25T10:00:00Z","tags":["math","engine","notes","poetry"],"notes":"{{new string('n', 500)}}","active":true,"ratio":0.618,"items":[{{items}}]}""";
        _valid = Answer(content);
        _invalid = Answer(content.Replace("\"age\":36", "\"age\":\"36\"", StringComparison.Ordinal));
    }

    private static byte[] Answer(string content) => JsonSerializer.SerializeToUtf8Bytes(new
    {
        id = "chatcmpl-1",
        @object = "chat.completion",
        model = "gpt-4o-2024-08-06",
        choices = new[] { new { index = 0, message = new { role = "assistant", content }, finish_reason = "stop" } },
        usage = new { prompt_tokens = 120, completion_tokens = 480, total_tokens = 600 },
    });

    /// <summary>Size of the answer in bytes (reported in the README).</summary>
    public int AnswerBytes => _valid.Length;

    [Benchmark(Baseline = true)]
    public string ValidAnswer() => AnswerValidator.Validate(_valid, _expectation).Result;

    [Benchmark]
    public int InvalidAnswer() => AnswerValidator.Validate(_invalid, _expectation).Violations.Count;

    [Benchmark]
    public bool RequestSchemaFromCache() => OutputExpectation.Read(_schemas, _request, _info.ResponseFormat, _info.Tools, StructuredOutputPolicy.Annotate, out _, out _) is not null;
}
