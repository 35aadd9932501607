using System.Text;
using System.Text.Json.Nodes;

namespace LlmProxy.Failover;

/// <summary>The request that continues a stream whose provider failed mid-answer.</summary>
internal static class ContinuationBody
{
    /// <summary>
    /// The client's request with the text already delivered as a final assistant message (a prefill: the provider
    /// continues it), or null when the body cannot carry one. Trailing whitespace is cut from the prefill (Anthropic
    /// refuses it) and returned in <paramref name="trimmed"/>.
    /// </summary>
    public static ArraySegment<byte>? Prefill(ArraySegment<byte> clientBody, ReadOnlySpan<byte> delivered, out byte[] trimmed)
    {
        trimmed = [];
        try
        {
            if (JsonNode.Parse(clientBody) is not JsonObject request || request["messages"] is not JsonArray messages)
            {
                return null;
            }

            var text = Encoding.UTF8.GetString(delivered);
            var kept = text.TrimEnd();
            trimmed = Encoding.UTF8.GetBytes(text[kept.Length..]);
            messages.Add(new JsonObject { ["role"] = "assistant", ["content"] = kept });
            request.Remove("n");
            return Encoding.UTF8.GetBytes(request.ToJsonString());
        }
        catch (Exception ex) when (ex is System.Text.Json.JsonException or InvalidOperationException)
        {
            return null;
        }
    }
}
