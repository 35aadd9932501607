namespace LlmProxy.Configuration;

/// <summary>What the gateway does with an answer that breaks the schema its request carried.</summary>
public sealed record StructuredOutputSettings
{
    /// <summary>
    /// <c>annotate</c> (default): pass it through with <c>x-llmproxy-validation</c>; <c>reject</c>: answer an error;
    /// <c>retry</c>: ask the provider again (non-streamed answers), then reject.
    /// </summary>
    public StructuredOutputPolicy Policy { get; init; } = StructuredOutputPolicy.Annotate;

    /// <summary>Under <c>retry</c>: attempts in all, the first included (2 to 5).</summary>
    public int MaxAttempts { get; init; } = 2;

    /// <summary>Under <c>retry</c>: add the invalid answer and its violations to the messages so the model can repair it.</summary>
    public bool RepairMessage { get; init; } = true;

    /// <summary>
    /// Streams under <c>reject</c>/<c>retry</c>: <c>pass-through</c> (default) sends events at once and ends a failed
    /// answer with an error event; <c>buffer</c> holds them until the answer is validated, then sends them, or a 422.
    /// </summary>
    public StructuredOutputStreamMode StreamMode { get; init; } = StructuredOutputStreamMode.PassThrough;

    /// <summary>Under <c>retry</c>: <c>next</c> (default) asks the model's next target in turn, <c>same</c> the one that answered.</summary>
    public StructuredOutputRetryTarget RetryTarget { get; init; } = StructuredOutputRetryTarget.Next;

    /// <summary>When true, a request may choose the policy with the <c>x-llmproxy-validation-policy</c> header.</summary>
    public bool AllowHeaderOverride { get; init; }
}
