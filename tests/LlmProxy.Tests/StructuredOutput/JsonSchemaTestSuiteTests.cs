using System.Globalization;
using System.Text;
using System.Text.Json;
using LlmProxy.Configuration;
using LlmProxy.Routing;
using LlmProxy.StructuredOutput;
using Xunit.Abstractions;

namespace LlmProxy.Tests.StructuredOutput;

/// <summary>
/// Every case of the JSON-Schema-Test-Suite files in TestSuite/ (draft 2020-12: the keywords of OpenAI's structured
/// outputs and the formats it names) through the gateway's own path: the schema as a request's
/// <c>response_format.json_schema.schema</c>, the data as the answer's content. A schema the request step refuses counts
/// as a disagreement.
/// </summary>
public sealed class JsonSchemaTestSuiteTests(ITestOutputHelper output)
{
    private const double RequiredAgreement = 0.99;

    // "file / group / test" → why the gateway disagrees there on purpose (or cannot do better). None is left: a new
    // disagreement fails the test until it is fixed or named here with its reason.
    private static readonly Dictionary<string, string> Exceptions = new(StringComparer.Ordinal);

    [Fact]
    public void Validate_EveryDraft202012Case_AgreesWithTheSuiteOrIsANamedException()
    {
        var disagreements = new List<(string Name, string Reason, bool FalsePass, bool Core)>();
        var total = 0;
        foreach (var (file, group, test, schema, data, valid) in Cases())
        {
            total++;
            var name = $"{file} / {group} / {test}";
            var outcome = Run(schema, data);
            var agrees = outcome == (valid ? Verdict.Passed : Verdict.Failed);
            if (!agrees)
            {
                var falsePass = !valid && outcome == Verdict.Passed;
                disagreements.Add((name, $"expected {(valid ? "valid" : "invalid")}, got {outcome}", falsePass, !file.StartsWith("optional/", StringComparison.Ordinal)));
            }
        }

        var agreed = total - disagreements.Count;
        var share = (double)agreed / total;
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"JSON-Schema-Test-Suite draft 2020-12: {agreed} of {total} agree ({share:P1})"));
        output.WriteLine(disagreements.Count == 0 ? "  no disagreement, so no exception is needed" : $"  {disagreements.Count} disagreements:");
        foreach (var (name, reason, _, _) in disagreements)
        {
            output.WriteLine($"  {name}: {reason}{(Exceptions.TryGetValue(name, out var why) ? " — exception: " + why : " — NOT AN EXCEPTION")}");
        }

        Assert.Equal(871, total);
        Assert.Empty(disagreements.Where(static d => d.FalsePass && d.Core).Select(static d => d.Name));
        Assert.Empty(disagreements.Where(static d => !Exceptions.ContainsKey(d.Name)).Select(static d => d.Name));
        Assert.Empty(Exceptions.Keys.Except(disagreements.Select(static d => d.Name)));
        Assert.True(share >= RequiredAgreement, $"agreement {share:P1} is below {RequiredAgreement:P0}");
    }

    // passed, failed, skipped, or "refused: why" when the request step would answer 400.
    private static string Run(string schema, string data)
    {
        var request = Encoding.UTF8.GetBytes("""{"model":"m","messages":[],"response_format":{"type":"json_schema","json_schema":{"name":"case","strict":true,"schema":"""
            + schema + "}}}");
        Assert.Equal(LlmRequestParser.Failure.None, LlmRequestParser.TryParse(request, out var info));
        var expectation = OutputExpectation.Read(new SchemaCache(), request, info.ResponseFormat, info.Tools, StructuredOutputPolicy.Reject, out var error, out _);
        if (expectation is null)
        {
            return "refused: " + error;
        }

        var answer = JsonSerializer.SerializeToUtf8Bytes(new
        {
            id = "c",
            @object = "chat.completion",
            choices = new[] { new { index = 0, message = new { role = "assistant", content = data }, finish_reason = "stop" } },
        });
        var verdict = AnswerValidator.Validate(answer, expectation);
        return verdict.Result == Verdict.Skipped ? "skipped: " + verdict.SkipReason : verdict.Result;
    }

    private static IEnumerable<(string File, string Group, string Test, string Schema, string Data, bool Valid)> Cases()
    {
        var root = Path.Combine(AppContext.BaseDirectory, "StructuredOutput", "TestSuite");
        foreach (var path in Directory.EnumerateFiles(root, "*.json", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            var file = Path.GetRelativePath(root, path).Replace('\\', '/');
            using var document = JsonDocument.Parse(File.ReadAllBytes(path));
            foreach (var group in document.RootElement.EnumerateArray())
            {
                var schema = group.GetProperty("schema").GetRawText();
                foreach (var test in group.GetProperty("tests").EnumerateArray())
                {
                    yield return (file, group.GetProperty("description").GetString()!, test.GetProperty("description").GetString()!, schema,
                        test.GetProperty("data").GetRawText(), test.GetProperty("valid").GetBoolean());
                }
            }
        }
    }
}
