using LlmProxy.Configuration;
using LlmProxy.Hosting;

namespace LlmProxy.Providers.Anthropic;

/// <summary>
/// OpenAI Chat Completions ↔ Anthropic Messages: requests by <see cref="AnthropicRequest"/>, answers by
/// <see cref="AnthropicResponse"/>, streams by <see cref="AnthropicStreamTranslator"/> and errors by
/// <see cref="AnthropicErrors"/>. Only chat completions can go to Anthropic.
/// </summary>
internal sealed class AnthropicTranslator : IProviderTranslator
{
    /// <inheritdoc/>
    public bool IsIdentity => false;

    /// <inheritdoc/>
    public bool StreamsReportUsage => true;

    /// <inheritdoc/>
    public string? RefuseOperation(string operationPath) => operationPath switch
    {
        "/chat/completions" => null,
        "/embeddings" => "This model is served by Anthropic, which has no embeddings API: /v1/embeddings is not available for it.",
        _ => $"This model is served by Anthropic: only /v1/chat/completions is available for it, not /v1{operationPath}.",
    };

    /// <inheritdoc/>
    public ProviderRequestBody TranslateRequest(LlmRequestFeature feature, ModelTarget target, bool addUsage)
    {
        var result = AnthropicRequest.Translate(feature.Body.AsSpan(), target.UpstreamModel, target.DefaultMaxTokens ?? AnthropicConfigRules.DefaultMaxTokens);
        if (result.Body is not { } body)
        {
            return ProviderRequestBody.Refused(result.Error ?? "The request cannot be sent to Anthropic.", result.Param);
        }

        // The response side needs to know which tool, if any, stands for response_format.
        feature.ProviderState = result.JsonToolName;
        return new ProviderRequestBody(body, Pooled: false);
    }

    /// <inheritdoc/>
    public ProviderAnswer? TranslateResponse(ReadOnlySpan<byte> providerBody, LlmRequestFeature feature, long created)
        => AnthropicResponse.Translate(providerBody, feature.ProviderState as string, created) is { } answer
            ? new ProviderAnswer(answer.OpenAIBody, answer.Usage)
            : null;

    /// <inheritdoc/>
    public Stream TranslateStream(Stream providerEvents, LlmRequestFeature feature, long created, bool usageChunk)
        => new AnthropicEventStream(providerEvents, new AnthropicStreamTranslator(feature.ProviderState as string, created, usageChunk), feature);

    /// <inheritdoc/>
    public ProviderError TranslateError(int status, ReadOnlySpan<byte> providerBody)
    {
        var error = AnthropicErrors.Translate(status, providerBody);
        return new ProviderError(error.Status, error.OpenAIBody, error.ShouldRetry);
    }
}
