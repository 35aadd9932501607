using LlmProxy.Configuration;
using LlmProxy.Errors;
using LlmProxy.Hosting;
using Microsoft.AspNetCore.Http.Features;

namespace LlmProxy.StructuredOutput;

/// <summary>
/// Stage 3b (after routing): for a chat request that carries <c>response_format</c> or <c>tools</c>, compiles their
/// schemas (cached) and records what the answer must look like and the policy in force. An unusable schema is the
/// client's 400, before any provider is called. Requests without them pass at once.
/// </summary>
internal sealed class StructuredOutputMiddleware
{
    /// <summary>The request header that may choose the policy where the config allows it.</summary>
    public const string PolicyHeader = "x-llmproxy-validation-policy";

    private static readonly StructuredOutputSettings DefaultSettings = new();

    private readonly RequestDelegate _next;
    private readonly SchemaCache _schemas;

    public StructuredOutputMiddleware(RequestDelegate next, SchemaCache schemas)
    {
        _next = next;
        _schemas = schemas;
    }

    public Task Invoke(HttpContext context)
    {
        var feature = context.Features.GetRequiredFeature<LlmRequestFeature>();
        var request = feature.Request;
        if ((request.ResponseFormat is null && request.Tools is null) || feature.OperationPath != "/chat/completions")
        {
            return _next(context);
        }

        var settings = feature.Key.StructuredOutput ?? feature.Snapshot.Config.Models.GetValueOrDefault(feature.Model!.Name)?.StructuredOutput ?? DefaultSettings;
        var policy = settings.Policy;
        var requested = context.Request.Headers[PolicyHeader];
        if (settings.AllowHeaderOverride && requested.Count == 1)
        {
            if (!StructuredOutputPolicies.TryParse(requested[0], out policy))
            {
                return ErrorWriter.WriteAsync(context, LlmError.InvalidRequest, $"{PolicyHeader} must be 'annotate', 'reject' or 'retry'.");
            }
        }

        var expectation = OutputExpectation.Read(_schemas, feature.Body, request.ResponseFormat, request.Tools, policy, out var error, out var param);
        if (expectation is not null)
        {
            expectation.MaxAttempts = settings.MaxAttempts;
            expectation.RepairMessage = settings.RepairMessage;
            expectation.RetryNextTarget = settings.RetryTarget == StructuredOutputRetryTarget.Next;
            expectation.StreamBuffer = settings.StreamMode == StructuredOutputStreamMode.Buffer;
        }

        if (expectation is null)
        {
            return ErrorWriter.WriteAsync(context, LlmError.InvalidRequest, error!, param);
        }

        if (!expectation.IsEmpty)
        {
            feature.Output = expectation;
        }

        return _next(context);
    }
}
