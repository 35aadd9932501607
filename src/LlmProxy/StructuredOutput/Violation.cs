namespace LlmProxy.StructuredOutput;

/// <summary>One way an answer breaks its schema: where (a JSON Pointer into the answer), which keyword, and why.</summary>
/// <param name="Path">JSON Pointer into the response body, for example <c>/choices/0/message/content/age</c>.</param>
/// <param name="Keyword">The schema keyword that failed (<c>required</c>, <c>type</c>, <c>json</c> for unparsable JSON…).</param>
/// <param name="Message">A short message.</param>
public sealed record Violation(string Path, string Keyword, string Message);
