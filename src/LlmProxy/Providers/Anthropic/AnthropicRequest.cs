using System.Buffers;
using System.Collections.Immutable;
using System.Text.Json;

namespace LlmProxy.Providers.Anthropic;

/// <summary>
/// Translates an OpenAI Chat Completions request body into an Anthropic <c>POST /v1/messages</c> body.
/// Only the fields listed in the rules are read; every other property (see <see cref="DroppedParameters"/>)
/// is dropped silently. Malformed input yields an error result, never an exception.
/// </summary>
internal static class AnthropicRequest
{
    /// <summary>
    /// The OpenAI request fields that are never sent to Anthropic (no Anthropic equivalent); any property not
    /// named in the mapping is dropped as well. <c>model</c> is replaced by the target's upstream model.
    /// </summary>
    public static ImmutableArray<string> DroppedParameters { get; } =
    [
        "frequency_penalty", "presence_penalty", "logit_bias", "logprobs", "top_logprobs", "seed", "service_tier",
        "store", "metadata", "stream_options", "modalities", "audio", "prediction", "reasoning_effort",
        "web_search_options", "verbosity", "prompt_cache_key", "safety_identifier", "functions", "function_call",
        "model",
    ];

    /// <summary>Anthropic's largest <c>temperature</c> (OpenAI allows up to 2): a higher one is sent as this.</summary>
    public const double MaxTemperature = 1.0;

    /// <summary>The 400 for valid JSON holding a string that cannot be decoded.</summary>
    internal const string UndecodableString = "The request contains a JSON string that is not valid Unicode (invalid UTF-8, or a lone surrogate escape such as \\ud800).";

    /// <summary>Translates the request; <paramref name="defaultMaxTokens"/> is sent when the client set no limit.</summary>
    public static AnthropicRequestResult Translate(ReadOnlySpan<byte> openAIChatBody, string upstreamModel, int defaultMaxTokens)
    {
        JsonDocument document;
        try
        {
            var reader = new Utf8JsonReader(openAIChatBody);
            document = JsonDocument.ParseValue(ref reader);
        }
        catch (JsonException)
        {
            return new AnthropicRequestResult(null, "We could not parse the JSON body of your request.", null, null);
        }

        using (document)
        {
            try
            {
                return Write(document.RootElement, upstreamModel, defaultMaxTokens);
            }
            catch (AnthropicRequestException exception)
            {
                return new AnthropicRequestResult(null, exception.Message, exception.Param, null);
            }
            catch (Exception exception) when (AnthropicJson.IsUndecodable(exception))
            {
                // Valid JSON whose string cannot be decoded (a lone surrogate escape such as "\ud800").
                return new AnthropicRequestResult(null, UndecodableString, null, null);
            }
        }
    }

    private static AnthropicRequestResult Write(JsonElement root, string upstreamModel, int defaultMaxTokens)
    {
        if (root.ValueKind != JsonValueKind.Object)
        {
            throw new AnthropicRequestException("The request body must be a JSON object.", null);
        }

        CheckN(root);
        var maxTokens = MaxTokensOf(root, defaultMaxTokens);
        var hasTools = AnthropicRequestTools.HasTools(root);
        var jsonMode = AnthropicJsonMode.Of(root, hasTools);
        var system = AnthropicRequestMessages.SystemOf(root, jsonMode.SystemInstruction);

        var buffer = new ArrayBufferWriter<byte>(1024);
        using (var writer = new Utf8JsonWriter(buffer, AnthropicJson.WriterOptions))
        {
            writer.WriteStartObject();
            writer.WriteString("model", upstreamModel);
            writer.WriteNumber("max_tokens", maxTokens);
            if (system.Length > 0)
            {
                writer.WriteString("system", system);
            }

            AnthropicRequestMessages.Write(root, writer);
            AnthropicRequestTools.Write(root, hasTools, jsonMode, writer);
            WriteSampling(root, writer);
            writer.WriteEndObject();
        }

        return new AnthropicRequestResult(buffer.WrittenSpan.ToArray(), null, null, jsonMode.ToolName);
    }

    private static void CheckN(JsonElement root)
    {
        if (!root.TryGetProperty("n", out var n) || n.ValueKind == JsonValueKind.Null)
        {
            return;
        }

        if (n.ValueKind != JsonValueKind.Number || !n.TryGetInt64(out var value) || value < 1)
        {
            throw new AnthropicRequestException("'n' must be a positive integer.", "n");
        }

        if (value > 1)
        {
            throw new AnthropicRequestException("n > 1 is not supported by Anthropic targets.", "n");
        }
    }

    /// <summary><c>max_completion_tokens</c> wins over <c>max_tokens</c>; Anthropic requires one, so the default fills in.</summary>
    private static int MaxTokensOf(JsonElement root, int defaultMaxTokens)
    {
        foreach (var name in (ReadOnlySpan<string>)["max_completion_tokens", "max_tokens"])
        {
            if (!root.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
            {
                continue;
            }

            if (value.ValueKind != JsonValueKind.Number || !value.TryGetInt32(out var tokens) || tokens < 1)
            {
                throw new AnthropicRequestException($"'{name}' must be a positive integer.", name);
            }

            return tokens;
        }

        return defaultMaxTokens;
    }

    private static void WriteSampling(JsonElement root, Utf8JsonWriter writer)
    {
        WriteStop(root, writer);
        // OpenAI's temperature range (0–2) is wider than Anthropic's (0–1): a valid OpenAI request must not become a 400.
        CopyNumber(root, "temperature", writer, integer: false, max: MaxTemperature);
        CopyNumber(root, "top_p", writer, integer: false);
        CopyNumber(root, "top_k", writer, integer: true);

        if (root.TryGetProperty("stream", out var stream) && stream.ValueKind != JsonValueKind.Null)
        {
            if (stream.ValueKind is not (JsonValueKind.True or JsonValueKind.False))
            {
                throw new AnthropicRequestException("'stream' must be a boolean.", "stream");
            }

            writer.WriteBoolean("stream", stream.GetBoolean());
        }

        if (root.TryGetProperty("user", out var user) && user.ValueKind != JsonValueKind.Null)
        {
            if (user.ValueKind != JsonValueKind.String)
            {
                throw new AnthropicRequestException("'user' must be a string.", "user");
            }

            if (user.GetString() is { Length: > 0 } userId)
            {
                writer.WriteStartObject("metadata");
                writer.WriteString("user_id", userId);
                writer.WriteEndObject();
            }
        }
    }

    /// <summary>
    /// <c>stop</c> (string or array) becomes <c>stop_sequences</c>; empty and whitespace-only strings (such as <c>"\n"</c>,
    /// common in OpenAI clients) are dropped: Anthropic rejects a stop sequence without a non-whitespace character.
    /// </summary>
    private static void WriteStop(JsonElement root, Utf8JsonWriter writer)
    {
        if (!root.TryGetProperty("stop", out var stop) || stop.ValueKind == JsonValueKind.Null)
        {
            return;
        }

        var sequences = new List<string>();
        if (stop.ValueKind == JsonValueKind.String)
        {
            sequences.Add(stop.GetString()!);
        }
        else if (stop.ValueKind == JsonValueKind.Array)
        {
            foreach (var item in stop.EnumerateArray())
            {
                if (item.ValueKind != JsonValueKind.String)
                {
                    throw new AnthropicRequestException("'stop' must be a string or an array of strings.", "stop");
                }

                sequences.Add(item.GetString()!);
            }
        }
        else
        {
            throw new AnthropicRequestException("'stop' must be a string or an array of strings.", "stop");
        }

        sequences.RemoveAll(string.IsNullOrWhiteSpace);
        if (sequences.Count == 0)
        {
            return;
        }

        writer.WriteStartArray("stop_sequences");
        foreach (var sequence in sequences)
        {
            writer.WriteStringValue(sequence);
        }

        writer.WriteEndArray();
    }

    private static void CopyNumber(JsonElement root, string name, Utf8JsonWriter writer, bool integer, double? max = null)
    {
        if (!root.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return;
        }

        if (value.ValueKind != JsonValueKind.Number || (integer && !value.TryGetInt64(out _)))
        {
            throw new AnthropicRequestException($"'{name}' must be {(integer ? "an integer" : "a number")}.", name);
        }

        if (max is { } limit && value.TryGetDouble(out var number) && number > limit)
        {
            writer.WriteNumber(name, limit);
            return;
        }

        writer.WritePropertyName(name);
        value.WriteTo(writer);
    }
}
