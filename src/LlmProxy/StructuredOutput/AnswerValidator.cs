using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Json.Schema;

namespace LlmProxy.StructuredOutput;

/// <summary>
/// Checks a non-streamed chat completion against the request's expectation: every choice's content must be JSON
/// (an object for <c>json_object</c>) that satisfies the <c>json_schema</c>, and every tool call must name a declared
/// function and carry arguments that satisfy its parameters. A refusal, <c>finish_reason</c> <c>length</c> or
/// <c>content_filter</c> is not checked (skipped, with the reason). An answer that cannot be checked to the end — a
/// schema regex that runs past its time limit — fails, naming the <c>pattern</c>: it never passes unchecked. Formats are
/// checked by <see cref="StrictFormats"/>.
/// </summary>
public static class AnswerValidator
{
    // Immutable in use: written only here, and JsonSchema.Net only reads its options and format registry while it
    // evaluates (nothing is cached in them); no other code can reach either.
    private static readonly FormatRegistry Formats = StrictFormats.Create();
    private static readonly EvaluationOptions Flag = new() { OutputFormat = OutputFormat.Flag, RequireFormatValidation = true, FormatRegistry = Formats };
    private static readonly EvaluationOptions List = new() { OutputFormat = OutputFormat.List, RequireFormatValidation = true, FormatRegistry = Formats };

    /// <summary>Validates one response body.</summary>
    public static Verdict Validate(ReadOnlySpan<byte> body, OutputExpectation expectation)
    {
        var violations = new List<Violation>();
        string? skipped = null;
        var checkedAny = false;
        JsonDocument document;
        try
        {
            var reader = new Utf8JsonReader(body);
            document = JsonDocument.ParseValue(ref reader);
        }
        catch (JsonException)
        {
            return new Verdict(Verdict.Failed, [new Violation("", "json", "the answer is not JSON")], null);
        }

        using (document)
        {
            if (!document.RootElement.TryGetProperty("choices", out var choices) || choices.ValueKind != JsonValueKind.Array)
            {
                return new Verdict(Verdict.Skipped, [], "no choices");
            }

            var i = 0;
            foreach (var choice in choices.EnumerateArray())
            {
                var at = $"/choices/{i++}";
                var finish = choice.TryGetProperty("finish_reason", out var f) && f.ValueKind == JsonValueKind.String ? f.GetString() : null;
                if (finish is "length" or "content_filter")
                {
                    skipped ??= $"finish_reason {finish}";
                    continue;
                }

                if (!choice.TryGetProperty("message", out var message) || message.ValueKind != JsonValueKind.Object)
                {
                    continue;
                }

                if (message.TryGetProperty("refusal", out var refusal) && refusal.ValueKind == JsonValueKind.String && refusal.GetString()!.Length > 0)
                {
                    skipped ??= "refusal";
                    continue;
                }

                var hasToolCalls = message.TryGetProperty("tool_calls", out var calls) && calls.ValueKind == JsonValueKind.Array && calls.GetArrayLength() > 0;
                if (expectation.ContentIsJson && message.TryGetProperty("content", out var content) && content.ValueKind == JsonValueKind.String
                    && !(hasToolCalls && string.IsNullOrWhiteSpace(content.GetString())))
                {
                    checkedAny = true;
                    CheckJson(content.GetString()!, $"{at}/message/content", requireObject: expectation.ContentSchema is null, expectation.ContentSchema, violations);
                }
                else if (expectation.ContentIsJson && !hasToolCalls)
                {
                    checkedAny = true;
                    violations.Add(new Violation($"{at}/message/content", "json", "no content to check"));
                }

                if (hasToolCalls)
                {
                    CheckToolCalls(calls, $"{at}/message/tool_calls", expectation, violations);
                    checkedAny = true;
                }
            }
        }

        return violations.Count > 0 ? new Verdict(Verdict.Failed, violations, null)
            : checkedAny ? new Verdict(Verdict.Passed, [], null)
            : new Verdict(Verdict.Skipped, [], skipped ?? "nothing to check");
    }

    private static void CheckToolCalls(JsonElement calls, string at, OutputExpectation expectation, List<Violation> violations)
    {
        var j = 0;
        foreach (var call in calls.EnumerateArray())
        {
            var path = $"{at}/{j++}/function";
            if (!call.TryGetProperty("function", out var function) || function.ValueKind != JsonValueKind.Object
                || !function.TryGetProperty("name", out var name) || name.ValueKind != JsonValueKind.String)
            {
                violations.Add(new Violation(path, "tools", "a tool call without a function name"));
                continue;
            }

            if (!expectation.Tools.TryGetValue(name.GetString()!, out var parameters))
            {
                violations.Add(new Violation(path + "/name", "tools", $"'{name.GetString()}' is not a function the request declared"));
                continue;
            }

            var arguments = function.TryGetProperty("arguments", out var a) && a.ValueKind == JsonValueKind.String ? a.GetString()! : "";
            CheckJson(arguments, path + "/arguments", requireObject: true, parameters, violations);
        }
    }

    // A "false" subschema failed (additionalProperties: false and the like): name the keyword that holds it.
    private static Violation FalseSchema(string path, string evaluationPath)
    {
        var keyword = evaluationPath.Split('/').LastOrDefault(static s => s is "additionalProperties" or "unevaluatedProperties" or "items"
            or "prefixItems" or "unevaluatedItems" or "propertyNames") ?? "false";
        return new Violation(path, keyword, keyword is "additionalProperties" or "unevaluatedProperties" ? "property not allowed" : "value not allowed");
    }

    private static void CheckJson(string text, string at, bool requireObject, JsonSchema? schema, List<Violation> violations)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(text);
        }
        catch (JsonException ex)
        {
            violations.Add(new Violation(at, "json", "not valid JSON: " + ex.Message.Split(" Path:", 2)[0]));
            return;
        }

        using (document)
        {
            if (requireObject && document.RootElement.ValueKind != JsonValueKind.Object)
            {
                violations.Add(new Violation(at, "type", "must be a JSON object"));
                return;
            }

            if (schema is null)
            {
                return;
            }

            if (NumberRange.FirstUncheckable(document.RootElement) is { } number)
            {
                violations.Add(new Violation(at, "number", $"the number {number}… is too large to check (at most {NumberRange.MaxLength} characters and an exponent of ±{NumberRange.MaxExponent})"));
                return;
            }

            EvaluationResults details;
            try
            {
                if (schema.Evaluate(document.RootElement, Flag).IsValid)
                {
                    return;
                }

                // Only a failure pays for the detailed output.
                details = schema.Evaluate(document.RootElement, List);
            }
            catch (RegexMatchTimeoutException ex)
            {
                violations.Add(new Violation(at, "pattern", string.Create(CultureInfo.InvariantCulture,
                    $"the schema's pattern '{ex.Pattern}' ran past its {ex.MatchTimeout.TotalMilliseconds} ms limit, so the value could not be checked")));
                return;
            }
            catch (Exception ex) when (ex is FormatException or OverflowException)
            {
                // JsonSchema.Net compares const, enum and uniqueItems numbers as decimals: one beyond ±7.9e28 cannot be compared.
                violations.Add(new Violation(at, "number", "a number could not be compared exactly (beyond ±7.9e28), so the value could not be checked"));
                return;
            }
            catch (Exception ex) when (ex is RefResolutionException or JsonSchemaException)
            {
                // The schema checks at compile time should leave nothing for this; if they miss, the answer still does not pass.
                violations.Add(new Violation(at, "$ref", "the schema could not be evaluated: " + ex.Message));
                return;
            }
            catch (Exception ex) when (ex is InvalidOperationException or ArgumentException or NotSupportedException or IndexOutOfRangeException or NullReferenceException)
            {
                // Client schema, provider answer: whatever else the library throws on them, the answer was not checked and does not pass.
                violations.Add(new Violation(at, "schema", "the answer could not be checked against the schema (" + ex.GetType().Name + ")"));
                return;
            }

            foreach (var node in details.Details ?? [])
            {
                foreach (var (keyword, message) in node.Errors ?? new Dictionary<string, string>())
                {
                    violations.Add(keyword.Length > 0
                        ? new Violation(at + node.InstanceLocation, keyword, message)
                        : FalseSchema(at + node.InstanceLocation, node.EvaluationPath.ToString()));
                }
            }

            if (details.Errors is { } top)
            {
                foreach (var (keyword, message) in top)
                {
                    violations.Add(new Violation(at + details.InstanceLocation, keyword, message));
                }
            }
        }
    }
}
