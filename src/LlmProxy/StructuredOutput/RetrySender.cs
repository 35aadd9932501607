using System.Net.Http.Headers;
using System.Text.Json;
using System.Text.Json.Nodes;
using LlmProxy.Configuration;
using LlmProxy.Routing;
using Yarp.ReverseProxy.Forwarder;

namespace LlmProxy.StructuredOutput;

/// <summary>
/// Sends a chat request to the same target again for the <c>retry</c> policy: the request as the provider first got
/// it (upstream model name), the provider's path and credential from its adapter, and — when configured — the invalid
/// answer and its violations appended to <c>messages</c> so the model can repair it. It sends through the model's
/// cluster client (the pooled connections and settings every forwarded request uses).
/// </summary>
internal static class RetrySender
{
    /// <summary>
    /// Sends the next attempt — to the model's next target when the expectation says so, else to
    /// <paramref name="previous"/> — and returns the target used and the answer, or a null answer when the attempt
    /// could not be made or the provider failed it (the caller keeps what it has).
    /// </summary>
    public static async Task<(ModelTarget Target, byte[]? Answer)> TryNextAsync(HttpContext http, LlmRequestFeature feature, ModelTarget previous,
        OutputExpectation expectation, byte[] invalidAnswer, Verdict verdict)
    {
        var targets = feature.Model?.Targets ?? [];
        var target = expectation.RetryNextTarget && targets.Length > 0 ? targets[(Array.IndexOf(targets, previous) + 1) % targets.Length] : previous;
        if (!target.Provider.Translator.IsIdentity)
        {
            // This sender speaks OpenAI's shape only; a translated provider is asked again once retries go through the
            // forwarding path with its translator (until then the first answer's verdict stands, as under reject).
            return (target, null);
        }

        try
        {
            var (status, body) = await SendAsync(http, feature, target, invalidAnswer, verdict, expectation.RepairMessage, http.RequestAborted);
            return (target, status is >= 200 and < 300 ? body : null);
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException || (ex is OperationCanceledException && !http.RequestAborted.IsCancellationRequested))
        {
            return (target, null);
        }
    }

    // Sends one more attempt; returns the status and body.
    private static async Task<(int Status, byte[] Body)> SendAsync(HttpContext http, LlmRequestFeature feature, ModelTarget target, byte[]? invalidAnswer, Verdict verdict,
        bool repair, CancellationToken cancellationToken)
    {
        using var message = new HttpRequestMessage(HttpMethod.Post, (Uri?)null)
        {
            Content = new ByteArrayContent(Body(feature, target, repair ? invalidAnswer : null, verdict)),
            Version = System.Net.HttpVersion.Version11,
        };
        message.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        var adapter = target.Provider.Adapter;
        var path = adapter.PathOf(target, feature.OperationPath);
        message.RequestUri = RequestUtilities.MakeDestinationAddress(target.Provider.Address, path.Path, path.Query);
        adapter.AddCredential(message.Headers, target.Provider);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(feature.Model?.Timeout ?? TimeSpan.FromMinutes(10));
        using var response = await http.GetReverseProxyFeature().Cluster.HttpClient.SendAsync(message, timeout.Token);
        var body = await response.Content.ReadAsByteArrayAsync(timeout.Token);
        // The answer may go to the client: the provider's credential is overwritten as in every forwarded answer.
        target.Provider.Redactor?.Redact(body, atEnd: true);
        return ((int)response.StatusCode, body);
    }

    // The client's body with the upstream model name, plus the repair turn when asked for.
    private static byte[] Body(LlmRequestFeature feature, ModelTarget target, byte[]? invalidAnswer, Verdict verdict)
    {
        var info = feature.Request;
        var spliced = new byte[feature.Body.Count - info.ModelTokenLength + target.UpstreamModelJson.Length];
        Providers.OpenAI.OpenAITranslator.Splice(feature.Body, info, target.UpstreamModelJson, [], spliced);
        if (invalidAnswer is null || MessagesOf(spliced) is not var (request, messages))
        {
            return spliced;
        }

        if (AnswerContent(invalidAnswer) is { } content)
        {
            messages.Add(new JsonObject { ["role"] = "assistant", ["content"] = content });
        }

        messages.Add(new JsonObject
        {
            ["role"] = "user",
            ["content"] = "Your previous answer did not match the required JSON schema: " + verdict.Describe() + ". Answer again, matching the schema exactly.",
        });
        return JsonSerializer.SerializeToUtf8Bytes(request);
    }

    // The request as a node tree and its messages, or null when it cannot be one (JsonObject throws on first use when a
    // property the gateway does not read is given twice): then the request is resent as it was, without the repair turn.
    private static (JsonObject Request, JsonArray Messages)? MessagesOf(byte[] body)
    {
        try
        {
            return JsonNode.Parse(body) is JsonObject request && request["messages"] is JsonArray messages ? (request, messages) : null;
        }
        catch (Exception ex) when (ex is JsonException or ArgumentException or InvalidOperationException)
        {
            return null;
        }
    }

    private static string? AnswerContent(byte[] answer)
    {
        try
        {
            using var document = JsonDocument.Parse(answer);
            return document.RootElement.TryGetProperty("choices", out var choices) && choices.ValueKind == JsonValueKind.Array && choices.GetArrayLength() > 0
                && choices[0].TryGetProperty("message", out var message) && message.TryGetProperty("content", out var content) && content.ValueKind == JsonValueKind.String
                ? content.GetString()
                : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
