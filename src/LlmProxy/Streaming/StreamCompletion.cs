using System.Text.Json;

namespace LlmProxy.Streaming;

/// <summary>
/// Whether a provider's stream said it was finished before it ended: a chat or completion chunk with a finish reason
/// (then <c>[DONE]</c>), a Responses API <c>response.completed</c>, <c>response.incomplete</c> or <c>response.failed</c>
/// event, or an error event. A stream that ends without any of them was cut short, however cleanly it closed.
/// </summary>
internal sealed class StreamCompletion
{
    /// <summary>A <c>data: [DONE]</c> event was seen.</summary>
    public bool SawDone { get; private set; }

    /// <summary>A finish reason, or a terminal Responses API event, was seen.</summary>
    public bool SawFinish { get; private set; }

    /// <summary>An error event was seen (the provider ended the answer itself).</summary>
    public bool SawError { get; private set; }

    /// <summary>True when the stream said it was finished.</summary>
    public bool Finished => SawDone || SawFinish || SawError;

    /// <summary>Reads the payload of one event's data line.</summary>
    public void Observe(ReadOnlySpan<byte> data)
    {
        if (data.SequenceEqual("[DONE]"u8))
        {
            SawDone = true;
            return;
        }

        var json = data.TrimStart(" \t"u8);
        if (json.StartsWith("{\"error\""u8) || json.StartsWith("{\"type\":\"error\""u8))
        {
            SawError = true;
            return;
        }

        if (json.StartsWith("{\"type\":\"response.completed\""u8) || json.StartsWith("{\"type\":\"response.incomplete\""u8)
            || json.StartsWith("{\"type\":\"response.failed\""u8))
        {
            SawFinish = true;
            return;
        }

        // The fast paths above cover OpenAI's own key order; other servers put "type" or "error" anywhere among the
        // top-level keys, with or without spaces: read those keys (only events that name one of them pay for it).
        if (json.IndexOf("\"type\""u8) >= 0 || json.IndexOf("\"error\""u8) >= 0)
        {
            ReadTopLevel(json);
            if (SawError || SawFinish)
            {
                return;
            }
        }

        if (!SawFinish && HasFinishReason(json))
        {
            SawFinish = true;
        }
    }

    /// <summary>
    /// Reads the end of an event too large to hold whole: its finish reason, if any, is near its end, and so is the
    /// type of a terminal Responses API event whose server writes <c>type</c> last.
    /// </summary>
    public void ObserveTail(ReadOnlySpan<byte> tail)
    {
        if (!SawFinish && (HasFinishReason(tail) || tail.IndexOf("\"type\":\"response.completed\""u8) >= 0
            || tail.IndexOf("\"type\":\"response.incomplete\""u8) >= 0 || tail.IndexOf("\"type\":\"response.failed\""u8) >= 0))
        {
            SawFinish = true;
        }
    }

    // The top-level "type" and "error" of an event's JSON.
    private void ReadTopLevel(ReadOnlySpan<byte> json)
    {
        var reader = new Utf8JsonReader(json);
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return;
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals("error"u8))
                {
                    reader.Read();
                    SawError |= reader.TokenType is JsonTokenType.StartObject or JsonTokenType.String;
                    reader.Skip();
                }
                else if (reader.ValueTextEquals("type"u8))
                {
                    reader.Read();
                    if (reader.TokenType == JsonTokenType.String)
                    {
                        SawError |= reader.ValueTextEquals("error"u8);
                        SawFinish |= reader.ValueTextEquals("response.completed"u8) || reader.ValueTextEquals("response.incomplete"u8)
                            || reader.ValueTextEquals("response.failed"u8);
                    }
                }
                else
                {
                    reader.Read();
                    reader.Skip();
                }
            }
        }
        catch (JsonException)
        {
            // Not JSON (or cut): nothing it says counts.
        }
    }

    // A "finish_reason" whose value is a non-empty string (null while the answer goes on).
    internal static bool HasFinishReason(ReadOnlySpan<byte> json)
    {
        var at = json.IndexOf("\"finish_reason\""u8);
        while (at >= 0)
        {
            var rest = json[(at + 15)..].TrimStart(" \t\r\n"u8);
            if (rest.Length > 0 && rest[0] == ':')
            {
                rest = rest[1..].TrimStart(" \t\r\n"u8);
                if (rest.Length > 1 && rest[0] == '"' && rest[1] != '"')
                {
                    return true;
                }
            }

            var next = json[(at + 15)..].IndexOf("\"finish_reason\""u8);
            at = next < 0 ? -1 : at + 15 + next;
        }

        return false;
    }
}
