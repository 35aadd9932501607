using System.Text.Json;
using LlmProxy.Hosting;

namespace LlmProxy.Usage;

/// <summary>
/// Reads usage, model, id, finish reason and the length of generated text from provider answers with
/// <see cref="Utf8JsonReader"/>: whole JSON bodies (chat, completions, embeddings, responses) and single SSE
/// event payloads (chat and completion chunks, Responses API events). Everything else is skipped.
/// </summary>
public static class UsageReader
{
    /// <summary>
    /// Reads a non-streamed answer without walking its whole content: <c>id</c> and <c>model</c> from the properties
    /// before the first large one, then the last <c>"usage"</c> object and the last <c>"finish_reason"</c> (OpenAI
    /// puts both after the content). Falls back to <see cref="ReadBody"/> when no usage is found that way.
    /// </summary>
    public static void ReadBodyFast(ReadOnlySpan<byte> json, LlmRequestFeature request)
    {
        if (request.CaptureDetails || !TryReadLeadingModel(json, request))
        {
            ReadLeadingIds(json, request);
        }

        var usage = LastProperty(json, "\"usage\""u8);
        if (usage < 0)
        {
            ReadBody(json, request);
            return;
        }

        ReadUsageObject(json[usage..], request);
        if (request.InputTokens is null && request.OutputTokens is null)
        {
            // The last "usage" was something else (an echoed field): read the top level properly.
            ReadBody(json, request);
            return;
        }

        var finish = request.CaptureDetails ? LastProperty(json, "\"finish_reason\""u8) : -1;
        if (finish >= 0 && request.FinishReason is null)
        {
            var rest = json[finish..];
            if (rest.Length > 0 && rest[0] == '"')
            {
                var end = rest[1..].IndexOf((byte)'"');
                if (end > 0)
                {
                    request.FinishReason = FinishReasonOf(rest.Slice(1, end));
                }
            }
        }
    }

    /// <summary>Reads a non-streamed answer. Returns false when the body is not a JSON object.</summary>
    public static bool ReadBody(ReadOnlySpan<byte> json, LlmRequestFeature request)
    {
        try
        {
            var reader = new Utf8JsonReader(json);
            return ReadObject(ref reader, request, out _, out _);
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException)
        {
            return false;
        }
    }

    /// <summary>Reads the last <c>"usage"</c> object in a fragment (the end of an event too large to read whole).</summary>
    public static void ReadLastUsage(ReadOnlySpan<byte> fragment, LlmRequestFeature request)
    {
        var usage = LastProperty(fragment, "\"usage\""u8);
        if (usage >= 0)
        {
            ReadUsageObject(fragment[usage..], request);
        }
    }

    /// <summary>Reads a usage object that starts the span (the tail of a large body); what follows it is ignored.</summary>
    public static void ReadUsageObject(ReadOnlySpan<byte> json, LlmRequestFeature request)
    {
        var length = LengthOfObject(json);
        if (length == 0)
        {
            return;
        }

        try
        {
            var reader = new Utf8JsonReader(json[..length]);
            if (reader.Read())
            {
                ReadUsage(ref reader, request);
            }
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException)
        {
            // Not a usage object after all.
        }
    }

    // The model alone, without a JSON reader: the first "model" before any object or array opens inside the root
    // (OpenAI sends id, object, created, model, then choices). Anything unusual (an escape, a brace inside an earlier
    // string) returns false and the reader does it.
    private static bool TryReadLeadingModel(ReadOnlySpan<byte> json, LlmRequestFeature request)
    {
        var at = json.IndexOf("\"model\""u8);
        var root = json.IndexOfAnyExcept(" \t\r\n"u8);
        if (at <= 0 || root < 0 || json[root] != '{' || json[(root + 1)..at].IndexOfAny("{[\\"u8) >= 0)
        {
            return false;
        }

        var rest = json[(at + 7)..];
        var colon = rest.IndexOfAnyExcept(" \t\r\n"u8);
        if (colon < 0 || rest[colon] != ':')
        {
            return false;
        }

        rest = rest[(colon + 1)..];
        var open = rest.IndexOfAnyExcept(" \t\r\n"u8);
        if (open < 0 || rest[open] != '"')
        {
            return false;
        }

        rest = rest[(open + 1)..];
        var close = rest.IndexOfAny((byte)'"', (byte)'\\');
        if (close <= 0 || rest[close] != '"')
        {
            return false;
        }

        request.ResponseModel ??= ModelName(rest[..close], request.ModelNames);
        return true;
    }

    // id and model: top-level properties read until the first array or object (choices, data, output).
    private static void ReadLeadingIds(ReadOnlySpan<byte> json, LlmRequestFeature request)
    {
        var reader = new Utf8JsonReader(json, isFinalBlock: false, state: default);
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return;
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var isModel = reader.ValueTextEquals("model"u8);
                var isId = !isModel && reader.ValueTextEquals("id"u8);
                if (!reader.Read() || reader.TokenType is JsonTokenType.StartArray or JsonTokenType.StartObject)
                {
                    return;
                }

                if (isModel || isId)
                {
                    KeepIdentity(ref reader, isModel, request);
                }
            }
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException)
        {
            // Ids are optional.
        }
    }

    // The offset of the value after the last occurrence of the property name (a quoted name followed by ':'),
    // or -1. Inside JSON strings quotes are escaped, so an unescaped "name": is a property.
    private static int LastProperty(ReadOnlySpan<byte> json, ReadOnlySpan<byte> quotedName)
    {
        var end = json.Length;
        while (end > 0)
        {
            var at = json[..end].LastIndexOf(quotedName);
            if (at < 0)
            {
                return -1;
            }

            var after = at + quotedName.Length;
            while (after < json.Length && json[after] is (byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n')
            {
                after++;
            }

            if (after < json.Length && json[after] == ':' && (at == 0 || json[at - 1] != '\\'))
            {
                after++;
                while (after < json.Length && json[after] is (byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n')
                {
                    after++;
                }

                return after;
            }

            end = at;
        }

        return -1;
    }

    // The length of the JSON object the span starts with (after whitespace), or 0 when it does not end in the span.
    private static int LengthOfObject(ReadOnlySpan<byte> json)
    {
        var depth = 0;
        var inString = false;
        for (var i = 0; i < json.Length; i++)
        {
            var b = json[i];
            if (inString)
            {
                if (b == '\\')
                {
                    i++;
                }
                else if (b == '"')
                {
                    inString = false;
                }

                continue;
            }

            switch (b)
            {
                case (byte)'"':
                    inString = true;
                    break;
                case (byte)'{':
                    depth++;
                    break;
                case (byte)'}':
                    if (--depth == 0)
                    {
                        return i + 1;
                    }

                    break;
                case (byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n':
                    break;
                default:
                    if (depth == 0)
                    {
                        return 0;
                    }

                    break;
            }
        }

        return 0;
    }

    /// <summary>
    /// Reads one SSE <c>data:</c> payload; false when it is not JSON. <paramref name="usageOnly"/> is true for a chunk
    /// with an empty <c>choices</c> array and a usage block (the <c>include_usage</c> chunk). The text of the answer goes
    /// to the request's <see cref="LlmRequestFeature.Transcript"/> too, when it keeps one.
    /// </summary>
    public static bool ReadEvent(ReadOnlySpan<byte> json, LlmRequestFeature request, out bool usageOnly, out bool hasText)
    {
        usageOnly = false;
        hasText = false;
        var transcriptBefore = 0;
        try
        {
            var reader = new Utf8JsonReader(json);
            var textBefore = request.GeneratedTextBytes;
            transcriptBefore = request.RecordingTranscript?.Text.Length ?? 0;
            if (ReadObject(ref reader, request, out var emptyChoices, out var hasUsage))
            {
                // Anything after the object makes the payload something other than JSON (the SDKs throw on it).
                if (reader.Read())
                {
                    throw new JsonException("more than one JSON value");
                }

                usageOnly = emptyChoices && hasUsage;
                hasText = request.GeneratedTextBytes > textBefore;
            }

            return true;
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException)
        {
            // The event is dropped: the text it seemed to carry never reaches the client.
            request.RecordingTranscript?.Truncate(transcriptBefore);
            return false;
        }
    }

    private static bool ReadObject(ref Utf8JsonReader reader, LlmRequestFeature request, out bool emptyChoices, out bool hasUsage)
    {
        emptyChoices = false;
        hasUsage = false;
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
        {
            return false;
        }

        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("usage"u8))
            {
                reader.Read();
                hasUsage = reader.TokenType == JsonTokenType.StartObject;
                ReadUsage(ref reader, request);
            }
            else if (reader.ValueTextEquals("choices"u8))
            {
                reader.Read();
                emptyChoices = ReadChoices(ref reader, request) == 0;
            }
            else if (reader.ValueTextEquals("model"u8) || reader.ValueTextEquals("id"u8))
            {
                var isModel = reader.ValueTextEquals("model"u8);
                reader.Read();
                if (request.RecordingTranscript is { } transcript && reader.TokenType == JsonTokenType.String && (isModel ? transcript.Model : transcript.Id) is null)
                {
                    transcript.Identify(isModel ? null : reader.GetString(), isModel ? reader.GetString() : null, 0);
                }

                KeepIdentity(ref reader, isModel, request);
            }
            else if (reader.ValueTextEquals("created"u8) && request.RecordingTranscript is { } transcript)
            {
                reader.Read();
                transcript.Identify(null, null, reader.TokenType == JsonTokenType.Number && reader.TryGetInt64(out var created) ? created : 0);
            }
            else if (reader.ValueTextEquals("delta"u8))
            {
                // Responses API text and argument deltas.
                reader.Read();
                CountText(ref reader, request);
            }
            else if (reader.ValueTextEquals("response"u8))
            {
                // Responses API events carry the response (with usage on response.completed).
                reader.Read();
                if (reader.TokenType == JsonTokenType.StartObject)
                {
                    ReadResponse(ref reader, request);
                }
                else
                {
                    reader.Skip();
                }
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }

        return true;
    }

    private static void ReadResponse(ref Utf8JsonReader reader, LlmRequestFeature request)
    {
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("usage"u8))
            {
                reader.Read();
                ReadUsage(ref reader, request);
            }
            else if (reader.ValueTextEquals("model"u8) || reader.ValueTextEquals("id"u8))
            {
                var isModel = reader.ValueTextEquals("model"u8);
                reader.Read();
                KeepIdentity(ref reader, isModel, request);
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }
    }

    // The first non-empty model or id wins (Azure streams open with empty ones); other value kinds are skipped.
    private static void KeepIdentity(ref Utf8JsonReader reader, bool isModel, LlmRequestFeature request)
    {
        if (reader.TokenType != JsonTokenType.String || reader.ValueSpan.Length == 0)
        {
            reader.Skip();
            return;
        }

        if (isModel)
        {
            request.ResponseModel ??= ModelName(ref reader, request.ModelNames);
        }
        else if (request.CaptureDetails)
        {
            request.ResponseId ??= reader.GetString();
        }
    }

    private static string? ModelName(ref Utf8JsonReader reader, ModelNameTable? names)
    {
        if (reader.ValueIsEscaped)
        {
            return reader.GetString();
        }

        return ModelName(reader.ValueSpan, names);
    }

    // A provider names the same few models over and over: the request's table (the host's) reuses the strings it made.
    private static string ModelName(ReadOnlySpan<byte> utf8, ModelNameTable? names)
        => names is not null ? names.Name(utf8) : System.Text.Encoding.UTF8.GetString(utf8);

    // The usual finish reasons as constants; anything else becomes a new string.
    private static string FinishReasonOf(ReadOnlySpan<byte> value) => value switch
    {
        _ when value.SequenceEqual("stop"u8) => "stop",
        _ when value.SequenceEqual("length"u8) => "length",
        _ when value.SequenceEqual("tool_calls"u8) => "tool_calls",
        _ when value.SequenceEqual("content_filter"u8) => "content_filter",
        _ => System.Text.Encoding.UTF8.GetString(value),
    };

    private static int ReadChoices(ref Utf8JsonReader reader, LlmRequestFeature request)
    {
        if (reader.TokenType != JsonTokenType.StartArray)
        {
            reader.Skip();
            return -1;
        }

        var count = 0;
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            count++;
            if (reader.TokenType != JsonTokenType.StartObject)
            {
                reader.Skip();
                continue;
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals("delta"u8) || reader.ValueTextEquals("message"u8))
                {
                    reader.Read();
                    ReadMessage(ref reader, request);
                }
                else if (reader.ValueTextEquals("index"u8) && request.RecordingTranscript is { } transcript)
                {
                    // A continuation reproduces one choice only.
                    reader.Read();
                    if (reader.TokenType != JsonTokenType.Number || !reader.TryGetInt32(out var index) || index != 0)
                    {
                        transcript.MarkUnsupported();
                    }
                }
                else if (reader.ValueTextEquals("text"u8))
                {
                    reader.Read();
                    CountText(ref reader, request);
                }
                else if (reader.ValueTextEquals("finish_reason"u8))
                {
                    reader.Read();
                    if (request.FinishReason is null && reader.TokenType == JsonTokenType.String)
                    {
                        request.FinishReason = reader.ValueIsEscaped ? reader.GetString() : FinishReasonOf(reader.ValueSpan);
                    }
                }
                else
                {
                    reader.Read();
                    reader.Skip();
                }
            }
        }

        return count;
    }

    // A message or delta: content, refusal and tool-call arguments count as generated text.
    private static void ReadMessage(ref Utf8JsonReader reader, LlmRequestFeature request)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            reader.Skip();
            return;
        }

        var depth = reader.CurrentDepth;
        var transcript = request.RecordingTranscript;
        while (reader.Read() && !(reader.TokenType == JsonTokenType.EndObject && reader.CurrentDepth == depth))
        {
            if (reader.TokenType != JsonTokenType.PropertyName)
            {
                continue;
            }

            if (reader.ValueTextEquals("content"u8) && reader.CurrentDepth == depth + 1)
            {
                reader.Read();
                if (transcript is not null && reader.TokenType == JsonTokenType.String)
                {
                    transcript.Append(ref reader);
                }

                CountText(ref reader, request);
            }
            else if (reader.ValueTextEquals("content"u8) || reader.ValueTextEquals("refusal"u8) || reader.ValueTextEquals("arguments"u8))
            {
                var refusal = reader.ValueTextEquals("refusal"u8);
                reader.Read();
                if (transcript is not null && (refusal ? reader.TokenType == JsonTokenType.String : true))
                {
                    transcript.MarkUnsupported();
                }

                CountText(ref reader, request);
            }
            else if (transcript is not null && (reader.ValueTextEquals("tool_calls"u8) || reader.ValueTextEquals("function_call"u8) || reader.ValueTextEquals("audio"u8)))
            {
                reader.Read();
                if (reader.TokenType != JsonTokenType.Null)
                {
                    transcript.MarkUnsupported();
                }

                reader.Skip();
            }
        }
    }

    private static void CountText(ref Utf8JsonReader reader, LlmRequestFeature request)
    {
        if (reader.TokenType == JsonTokenType.String)
        {
            request.GeneratedTextBytes += reader.ValueSpan.Length;
        }
        else
        {
            reader.Skip();
        }
    }

    private static void ReadUsage(ref Utf8JsonReader reader, LlmRequestFeature request)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            reader.Skip();
            return;
        }

        long? input = null, output = null;
        long cached = 0, reasoning = 0;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("prompt_tokens"u8) || reader.ValueTextEquals("input_tokens"u8))
            {
                reader.Read();
                input = ReadCount(ref reader) ?? input;
            }
            else if (reader.ValueTextEquals("completion_tokens"u8) || reader.ValueTextEquals("output_tokens"u8))
            {
                reader.Read();
                output = ReadCount(ref reader) ?? output;
            }
            else if (reader.ValueTextEquals("prompt_tokens_details"u8) || reader.ValueTextEquals("input_tokens_details"u8))
            {
                reader.Read();
                cached = ReadDetail(ref reader, "cached_tokens"u8) ?? cached;
            }
            else if (reader.ValueTextEquals("completion_tokens_details"u8) || reader.ValueTextEquals("output_tokens_details"u8))
            {
                reader.Read();
                reasoning = ReadDetail(ref reader, "reasoning_tokens"u8) ?? reasoning;
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }

        request.SetUsage(input, output, cached, reasoning);
    }

    private static long? ReadDetail(ref Utf8JsonReader reader, ReadOnlySpan<byte> name)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            reader.Skip();
            return null;
        }

        long? value = null;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var match = reader.ValueTextEquals(name);
            reader.Read();
            if (match)
            {
                value = ReadCount(ref reader);
            }
            else
            {
                reader.Skip();
            }
        }

        return value;
    }

    // Counts above a trillion are not usage but garbage: treated as missing.
    private static long? ReadCount(ref Utf8JsonReader reader)
        => reader.TokenType == JsonTokenType.Number && reader.TryGetInt64(out var value) && value is >= 0 and <= 1_000_000_000_000 ? value : null;
}
