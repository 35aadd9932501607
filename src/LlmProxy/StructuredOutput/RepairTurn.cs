using System.Text.Json;
using System.Text.Json.Nodes;

namespace LlmProxy.StructuredOutput;

/// <summary>
/// The request of a structured-output retry with the repair turn: the client's body with the invalid answer (as the
/// assistant's message) and a user message naming its violations appended to <c>messages</c>, so the model can repair it.
/// </summary>
internal static class RepairTurn
{
    /// <summary>
    /// The client's <paramref name="body"/> with the repair turn for <paramref name="invalid"/>, or null when it cannot
    /// have one (no <c>messages</c> array, or a body <see cref="JsonObject"/> cannot hold): then it is sent again as it was.
    /// </summary>
    public static byte[]? Append(ReadOnlySpan<byte> body, InvalidAnswer invalid)
    {
        if (MessagesOf(body) is not var (request, messages))
        {
            return null;
        }

        if (AnswerContent(invalid.Completion) is { } content)
        {
            messages.Add(new JsonObject { ["role"] = "assistant", ["content"] = content });
        }

        var verdict = new Verdict(Verdict.Failed, invalid.Violations, null);
        messages.Add(new JsonObject
        {
            ["role"] = "user",
            ["content"] = "Your previous answer did not match the required JSON schema: " + verdict.Describe() + ". Answer again, matching the schema exactly.",
        });
        return JsonSerializer.SerializeToUtf8Bytes(request);
    }

    // The request as a node tree and its messages, or null when it cannot be one (JsonObject throws on first use when a
    // property the gateway does not read is given twice).
    private static (JsonObject Request, JsonArray Messages)? MessagesOf(ReadOnlySpan<byte> body)
    {
        try
        {
            var reader = new Utf8JsonReader(body);
            return JsonNode.Parse(ref reader) is JsonObject request && request["messages"] is JsonArray messages ? (request, messages) : null;
        }
        catch (Exception ex) when (ex is JsonException or ArgumentException or InvalidOperationException)
        {
            return null;
        }
    }

    // choices[0].message.content of a chat.completion.
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
