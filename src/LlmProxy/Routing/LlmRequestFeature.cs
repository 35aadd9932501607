using LlmProxy.Auth;
using LlmProxy.Configuration;

namespace LlmProxy.Routing;

/// <summary>
/// Per-request state shared by the stages, stored on <c>HttpContext.Features</c>: the snapshot the request
/// started with, the caller, the buffered body and what was parsed from it, and the chosen model and target.
/// </summary>
public sealed class LlmRequestFeature
{
    /// <summary>Creates the feature for an authenticated request.</summary>
    public LlmRequestFeature(GatewaySnapshot snapshot, VirtualKey key)
    {
        Snapshot = snapshot;
        Key = key;
    }

    /// <summary>The config snapshot in force when the request arrived.</summary>
    public GatewaySnapshot Snapshot { get; }

    /// <summary>The authenticated caller.</summary>
    public VirtualKey Key { get; }

    /// <summary>The buffered request body (a pooled array; valid while the request runs).</summary>
    public ArraySegment<byte> Body { get; internal set; }

    /// <summary>What the gateway read from the body.</summary>
    public LlmRequestInfo Request { get; internal set; }

    /// <summary>The OpenAI path after <c>/v1</c>, for example <c>/chat/completions</c>.</summary>
    public string OperationPath { get; internal set; } = "";

    /// <summary>The model the request was routed to.</summary>
    public ModelRoute? Model { get; internal set; }

    /// <summary>The limits that admitted the request, for the rate-limit headers of the provider's response.</summary>
    public (RateLimiting.LimitPlan Plan, RateLimiting.LimitDecision Decision, int Divisor)? Limits { get; internal set; }

    /// <summary>What the answer must look like (schemas from the request), when the request carries any.</summary>
    public StructuredOutput.OutputExpectation? Output { get; internal set; }

    /// <summary>The target chosen by load balancing.</summary>
    public ModelTarget? Target { get; internal set; }

    /// <summary>What the target's translator wrote down with the request for reading the answer (Anthropic: the name of the tool that stands for <c>response_format</c>).</summary>
    internal object? ProviderState { get; set; }

    /// <summary>Which attempt is running (1 for the first).</summary>
    public int Attempt { get; internal set; } = 1;

    /// <summary>Set by the response side when the attempt's answer failed validation and may be asked for again.</summary>
    internal StructuredOutput.InvalidAnswer? RetryWanted { get; set; }
}
