namespace LlmProxy.StructuredOutput;

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
