namespace LlmProxy.Configuration;

/// <summary>Names of <see cref="StructuredOutputPolicy"/>.</summary>
public static class StructuredOutputPolicies
{
    /// <summary>The config value (<c>annotate</c>, <c>reject</c>, <c>retry</c>): the <c>mode</c> metric label.</summary>
    public static string Name(this StructuredOutputPolicy policy) => policy switch
    {
        StructuredOutputPolicy.Annotate => "annotate",
        StructuredOutputPolicy.Reject => "reject",
        StructuredOutputPolicy.Retry => "retry",
        _ => throw new ArgumentOutOfRangeException(nameof(policy), policy, null),
    };

    /// <summary>Reads a policy named exactly as in the config (the <c>x-llmproxy-validation-policy</c> header).</summary>
    public static bool TryParse(string? value, out StructuredOutputPolicy policy)
    {
        switch (value)
        {
            case "annotate":
                policy = StructuredOutputPolicy.Annotate;
                return true;
            case "reject":
                policy = StructuredOutputPolicy.Reject;
                return true;
            case "retry":
                policy = StructuredOutputPolicy.Retry;
                return true;
            default:
                policy = default;
                return false;
        }
    }
}
