using System.Text.Json;
using System.Text.Unicode;

namespace LlmProxy.Routing;

/// <summary>
/// Reads only <c>model</c> and <c>stream</c> from a request body with <see cref="Utf8JsonReader"/> (no DOM),
/// while checking that the whole body is one well-formed JSON object.
/// </summary>
public static class LlmRequestParser
{
    /// <summary>Why a body was rejected.</summary>
    public enum Failure
    {
        /// <summary>Parsed.</summary>
        None,

        /// <summary>Not JSON, or not an object.</summary>
        MalformedJson,

        /// <summary>No <c>model</c>.</summary>
        MissingModel,

        /// <summary><c>model</c> is not a non-empty string, or appears twice.</summary>
        InvalidModel,

        /// <summary><c>stream</c> is neither a boolean nor null.</summary>
        InvalidStream,
    }

    /// <summary>Parses the body; on failure <paramref name="info"/> is default.</summary>
    public static Failure TryParse(ReadOnlySpan<byte> body, out LlmRequestInfo info)
    {
        info = default;

        // The reader checks UTF-8 only in values it decodes; the provider would reject the rest (vectorized, cheap).
        if (!Utf8.IsValid(body))
        {
            return Failure.MalformedJson;
        }

        string? model = null;
        int modelStart = 0, modelLength = 0;
        var stream = false;
        var streamOptions = StreamOptions.Absent;
        var rootEnd = 0;
        Range? responseFormat = null, tools = null;
        var reader = new Utf8JsonReader(body, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Disallow, MaxDepth = 128 });
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return Failure.MalformedJson;
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals("model"u8))
                {
                    reader.Read();
                    if (model is not null || reader.TokenType != JsonTokenType.String)
                    {
                        // A second "model" would reach the provider unchanged: refuse it rather than guess.
                        reader.Skip();
                        SkipToEnd(ref reader);
                        return Failure.InvalidModel;
                    }

                    model = reader.GetString()!;
                    modelStart = (int)reader.TokenStartIndex;
                    modelLength = reader.ValueSpan.Length + 2;
                }
                else if (reader.ValueTextEquals("stream"u8))
                {
                    reader.Read();
                    switch (reader.TokenType)
                    {
                        case JsonTokenType.True:
                            stream = true;
                            break;
                        case JsonTokenType.False or JsonTokenType.Null:
                            stream = false;
                            break;
                        default:
                            reader.Skip();
                            SkipToEnd(ref reader);
                            return Failure.InvalidStream;
                    }
                }
                else if (reader.ValueTextEquals("stream_options"u8))
                {
                    reader.Read();
                    streamOptions = ReadStreamOptions(ref reader);
                }
                else if (reader.ValueTextEquals("response_format"u8) || reader.ValueTextEquals("tools"u8))
                {
                    // Where the structured-output stage finds the schemas; it reads them only when they are there.
                    var isTools = reader.ValueTextEquals("tools"u8);
                    reader.Read();
                    var start = (int)reader.TokenStartIndex;
                    reader.Skip();
                    var span = new Range(start, (int)reader.BytesConsumed);
                    if (isTools)
                    {
                        tools = span;
                    }
                    else
                    {
                        responseFormat = span;
                    }
                }
                else
                {
                    reader.Read();
                    reader.Skip();
                }
            }

            if (reader.TokenType != JsonTokenType.EndObject)
            {
                return Failure.MalformedJson;
            }

            rootEnd = (int)reader.TokenStartIndex;
            if (reader.Read())
            {
                return Failure.MalformedJson;
            }
        }
        catch (JsonException)
        {
            return Failure.MalformedJson;
        }

        if (model is null)
        {
            return Failure.MissingModel;
        }

        if (model.Length == 0)
        {
            return Failure.InvalidModel;
        }

        info = new LlmRequestInfo
        {
            Model = model,
            ModelTokenStart = modelStart,
            ModelTokenLength = modelLength,
            Stream = stream,
            StreamOptions = streamOptions,
            RootEnd = rootEnd,
            ResponseFormat = responseFormat,
            Tools = tools,
        };
        return Failure.None;
    }

    // stream_options: only include_usage matters (the gateway asks for usage when the client did not).
    private static StreamOptions ReadStreamOptions(ref Utf8JsonReader reader)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            reader.Skip();
            return StreamOptions.Other;
        }

        var result = StreamOptions.Other;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var isIncludeUsage = reader.ValueTextEquals("include_usage"u8);
            reader.Read();
            if (isIncludeUsage && reader.TokenType == JsonTokenType.True)
            {
                result = StreamOptions.IncludeUsage;
            }

            reader.Skip();
        }

        return result;
    }

    // Malformed JSON after a bad field must still be reported as malformed.
    private static void SkipToEnd(ref Utf8JsonReader reader)
    {
        while (reader.Read())
        {
        }
    }
}
