using System.Text.Json;

namespace LlmProxy.Providers.Anthropic;

/// <summary>
/// An OpenAI Chat Completions request as an Anthropic Messages request. <c>system</c>/<c>developer</c> messages become
/// the top-level <c>system</c> (joined with blank lines); <c>max_completion_tokens</c> or <c>max_tokens</c> becomes
/// <c>max_tokens</c> (the configured default when neither is given); <c>stop</c> → <c>stop_sequences</c>; tools →
/// <c>input_schema</c>; <c>tool_choice</c> and <c>parallel_tool_calls</c> → Anthropic's <c>tool_choice</c>; <c>user</c>
/// → <c>metadata.user_id</c>; <c>response_format</c> json_schema → a forced tool whose input is the answer (with the
/// client's own tools present: an instruction in <c>system</c>; the gateway validates the answer either way). Every other
/// parameter is dropped (see <see cref="Dropped"/>), never sent.
/// </summary>
internal static class AnthropicRequest
{
    /// <summary>The name of the tool that stands for <c>response_format</c> json_schema.</summary>
    public const string JsonToolName = "json_response";

    /// <summary>OpenAI parameters with no Messages API equivalent: dropped (documented in the README).</summary>
    public static readonly string[] Dropped =
    [
        "frequency_penalty", "presence_penalty", "logit_bias", "logprobs", "top_logprobs", "seed", "service_tier", "store",
        "metadata", "stream_options", "modalities", "audio", "prediction", "reasoning_effort", "web_search_options", "verbosity",
        "prompt_cache_key", "safety_identifier", "functions", "function_call", "n (when 1)",
    ];

    /// <summary>Translates; never throws for a malformed request (the result carries the 400's message instead).</summary>
    public static AnthropicRequestResult Translate(ReadOnlySpan<byte> openAIChatBody, string upstreamModel, int defaultMaxTokens)
    {
        try
        {
            using var document = JsonDocument.Parse(openAIChatBody.ToArray());
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw new AnthropicRequestException("The request body must be a JSON object.", null);
            }

            return Write(root, upstreamModel, defaultMaxTokens);
        }
        catch (AnthropicRequestException ex)
        {
            return new AnthropicRequestResult(null, ex.Message, ex.Param, null);
        }
        catch (JsonException)
        {
            return new AnthropicRequestResult(null, "The request body is not valid JSON.", null, null);
        }
    }

    private static AnthropicRequestResult Write(JsonElement root, string upstreamModel, int defaultMaxTokens)
    {
        if (root.TryGetProperty("n", out var n) && !(n.ValueKind == JsonValueKind.Null || (n.ValueKind == JsonValueKind.Number && n.TryGetInt32(out var count) && count == 1)))
        {
            throw new AnthropicRequestException("n other than 1 is not supported by Anthropic targets.", "n");
        }

        var tools = root.TryGetProperty("tools", out var t) && t.ValueKind == JsonValueKind.Array && t.GetArrayLength() > 0 ? t : default;
        var system = AnthropicMessages.SystemText(root);
        string? jsonTool = null;
        JsonElement schema = default;
        if (root.TryGetProperty("response_format", out var format) && format.ValueKind == JsonValueKind.Object
            && format.TryGetProperty("type", out var formatType))
        {
            switch (formatType.GetString())
            {
                case "json_schema" when format.TryGetProperty("json_schema", out var jsonSchema) && jsonSchema.ValueKind == JsonValueKind.Object
                    && jsonSchema.TryGetProperty("schema", out schema) && schema.ValueKind == JsonValueKind.Object:
                    if (tools.ValueKind == JsonValueKind.Undefined)
                    {
                        jsonTool = JsonToolName;
                    }
                    else
                    {
                        system = Join(system, "Answer with only a JSON object that matches this JSON schema: " + schema.GetRawText());
                    }

                    break;
                case "json_schema":
                    throw new AnthropicRequestException("response_format.json_schema.schema must be a JSON object.", "response_format");
                case "json_object":
                    system = Join(system, "Answer with only a JSON object.");
                    break;
            }
        }

        using var stream = new MemoryStream(512);
        using (var writer = new Utf8JsonWriter(stream, AnthropicJson.WriterOptions))
        {
            writer.WriteStartObject();
            writer.WriteString("model", upstreamModel);
            writer.WriteNumber("max_tokens", MaxTokens(root, defaultMaxTokens));
            if (system is not null)
            {
                writer.WriteString("system", system);
            }

            AnthropicMessages.Write(root, writer);
            WriteSampling(root, writer);
            AnthropicTools.Write(root, tools, jsonTool, schema, writer);
            if (root.TryGetProperty("user", out var user) && user.ValueKind == JsonValueKind.String)
            {
                writer.WriteStartObject("metadata");
                writer.WriteString("user_id", user.GetString());
                writer.WriteEndObject();
            }

            writer.WriteEndObject();
        }

        return new AnthropicRequestResult(stream.ToArray(), null, null, jsonTool);
    }

    private static int MaxTokens(JsonElement root, int defaultMaxTokens)
    {
        foreach (var name in (string[])["max_completion_tokens", "max_tokens"])
        {
            if (root.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.Null)
            {
                return value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out var tokens) && tokens > 0
                    ? tokens
                    : throw new AnthropicRequestException($"{name} must be a positive integer.", name);
            }
        }

        return defaultMaxTokens;
    }

    private static void WriteSampling(JsonElement root, Utf8JsonWriter writer)
    {
        foreach (var name in (string[])["temperature", "top_p", "top_k"])
        {
            if (root.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.Null)
            {
                if (value.ValueKind != JsonValueKind.Number)
                {
                    throw new AnthropicRequestException($"{name} must be a number.", name);
                }

                writer.WritePropertyName(name);
                value.WriteTo(writer);
            }
        }

        if (root.TryGetProperty("stream", out var streamFlag) && streamFlag.ValueKind is JsonValueKind.True or JsonValueKind.False)
        {
            writer.WriteBoolean("stream", streamFlag.GetBoolean());
        }

        if (root.TryGetProperty("stop", out var stop) && stop.ValueKind != JsonValueKind.Null)
        {
            writer.WriteStartArray("stop_sequences");
            if (stop.ValueKind == JsonValueKind.String)
            {
                writer.WriteStringValue(stop.GetString());
            }
            else if (stop.ValueKind == JsonValueKind.Array)
            {
                foreach (var item in stop.EnumerateArray())
                {
                    writer.WriteStringValue(item.ValueKind == JsonValueKind.String ? item.GetString() : throw new AnthropicRequestException("stop must be a string or an array of strings.", "stop"));
                }
            }
            else
            {
                throw new AnthropicRequestException("stop must be a string or an array of strings.", "stop");
            }

            writer.WriteEndArray();
        }
    }

    private static string Join(string? first, string second) => first is null ? second : first + "\n\n" + second;
}
