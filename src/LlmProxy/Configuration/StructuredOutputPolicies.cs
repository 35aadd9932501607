namespace LlmProxy.Configuration;

/// <summary>The values of <see cref="StructuredOutputSettings.Policy"/>.</summary>
public static class StructuredOutputPolicies
{
    /// <summary>Pass the answer through and say what validation found in a header.</summary>
    public const string Annotate = "annotate";

    /// <summary>Replace an invalid answer with an OpenAI-shaped error.</summary>
    public const string Reject = "reject";

    /// <summary>Ask again, then reject.</summary>
    public const string Retry = "retry";

    /// <summary>Whether <paramref name="value"/> is a known policy.</summary>
    public static bool IsKnown(string? value) => value is Annotate or Reject or Retry;
}
