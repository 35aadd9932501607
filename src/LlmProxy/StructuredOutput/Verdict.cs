namespace LlmProxy.StructuredOutput;

/// <summary>One way an answer breaks its schema: where (a JSON Pointer into the answer), which keyword, and why.</summary>
/// <param name="Path">JSON Pointer into the response body, for example <c>/choices/0/message/content/age</c>.</param>
/// <param name="Keyword">The schema keyword that failed (<c>required</c>, <c>type</c>, <c>json</c> for unparsable JSON…).</param>
/// <param name="Message">A short message.</param>
public sealed record Violation(string Path, string Keyword, string Message);

/// <summary>What validation found in one answer.</summary>
/// <param name="Result"><c>passed</c>, <c>failed</c> or <c>skipped</c> (the header and metric value).</param>
/// <param name="Violations">Every violation found (empty unless failed).</param>
/// <param name="SkipReason">Why nothing was checked, when skipped.</param>
public sealed record Verdict(string Result, IReadOnlyList<Violation> Violations, string? SkipReason)
{
    /// <summary>The answer fits.</summary>
    public const string Passed = "passed";

    /// <summary>The answer breaks its schema.</summary>
    public const string Failed = "failed";

    /// <summary>Nothing could be checked (a refusal, a cut answer).</summary>
    public const string Skipped = "skipped";

    /// <summary>The violations as one line: <c>/path keyword: message; …</c>.</summary>
    public string Describe() => string.Join("; ", Violations.Select(static v => $"{(v.Path.Length == 0 ? "/" : v.Path)} {v.Keyword}: {v.Message}"));
}
