using System.Diagnostics;

namespace LlmProxy.Telemetry;

/// <summary>The gateway's <see cref="ActivitySource"/>: one span per forwarded request with GenAI attributes.</summary>
public static class LlmProxyActivity
{
    /// <summary>The source's name.</summary>
    public const string SourceName = "LlmProxy";

    /// <summary>The source.</summary>
    public static readonly ActivitySource Source = new(SourceName);

    /// <summary>Names the span <c>{operation} {model}</c> and sets the GenAI attributes from the request's record, then ends it.</summary>
    internal static void Complete(Activity activity, UsageRecord record)
    {
        activity.DisplayName = record.Operation + " " + record.RequestModel;
        activity.SetTag("gen_ai.operation.name", record.Operation);
        activity.SetTag("gen_ai.request.model", record.RequestModel);
        activity.SetTag("gen_ai.response.model", record.ResponseModel);
        activity.SetTag("gen_ai.provider.name", record.ProviderSystem);
        activity.SetTag("gen_ai.response.id", record.ResponseId);
        if (record.FinishReason is not null)
        {
            activity.SetTag("gen_ai.response.finish_reasons", new[] { record.FinishReason });
        }

        if (record.Usage is { } usage)
        {
            activity.SetTag("gen_ai.usage.input_tokens", usage.Input);
            activity.SetTag("gen_ai.usage.output_tokens", usage.Output);
            activity.SetTag("llmproxy.usage.estimated", usage.Estimated);
        }

        activity.SetTag("llmproxy.request.id", record.RequestId);
        activity.SetTag("llmproxy.key.id", record.KeyId);
        activity.SetTag("llmproxy.team", record.Team);
        activity.SetTag("llmproxy.cost_usd", record.CostUsd is { } cost ? (double)cost : null);
        activity.SetTag("http.response.status_code", record.Status);
        if (record.Error != ErrorCategory.None)
        {
            activity.SetTag("error.type", record.Error.Name());
            activity.SetStatus(ActivityStatusCode.Error, record.Error.Name());
        }

        activity.Dispose();
    }
}
