using System.Text.Json;
using System.Text.Unicode;

namespace LlmProxy.Routing;

/// <summary>
/// Reads only <c>model</c> and <c>stream</c> from a request body with <see cref="Utf8JsonReader"/> (no DOM),
/// while checking that the whole body is one well-formed JSON object that every later stage can read: valid UTF-8,
/// no lone surrogate escapes, at most <see cref="MaxDepth"/> levels deep, and no property the gateway reads given twice.
/// </summary>
public static class LlmRequestParser
{
    /// <summary>
    /// The deepest nesting accepted. It is System.Text.Json's default, so every later reader of the body or of a part
    /// of it (schemas, token counting, the simulated provider) can read whatever this parser accepted.
    /// </summary>
    public const int MaxDepth = 64;

    private static readonly JsonReaderOptions ReaderOptions = new() { CommentHandling = JsonCommentHandling.Disallow, MaxDepth = MaxDepth };

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

        /// <summary>A top-level property the gateway reads appears twice (the gateway and the provider could read different values).</summary>
        DuplicateProperty,
    }

    // The top-level properties some stage of the gateway reads (routing, streaming, validation, token estimates).
    [Flags]
    private enum Field
    {
        None = 0,
        Model = 1 << 0,
        Stream = 1 << 1,
        StreamOptions = 1 << 2,
        ResponseFormat = 1 << 3,
        Tools = 1 << 4,
        Messages = 1 << 5,
        Prompt = 1 << 6,
        Input = 1 << 7,
        Instructions = 1 << 8,
        Functions = 1 << 9,
        MaxTokens = 1 << 10,
        MaxCompletionTokens = 1 << 11,
        MaxOutputTokens = 1 << 12,
        N = 1 << 13,
    }

    /// <summary>Parses the body; on failure <paramref name="info"/> is default.</summary>
    public static Failure TryParse(ReadOnlySpan<byte> body, out LlmRequestInfo info) => TryParse(body, out info, out _);

    /// <summary>Parses the body; on failure <paramref name="info"/> is default and <paramref name="param"/> names the property at fault, if one is.</summary>
    public static Failure TryParse(ReadOnlySpan<byte> body, out LlmRequestInfo info, out string? param)
    {
        info = default;
        param = null;

        // The reader checks UTF-8 only in values it decodes, and unescapes strings only when asked: text that cannot be
        // decoded would make a later stage throw. Both checks are vectorized and cheap.
        if (!Utf8.IsValid(body) || JsonEscapes.HasLoneSurrogate(body))
        {
            return Failure.MalformedJson;
        }

        string? model = null;
        int modelStart = 0, modelLength = 0;
        var stream = false;
        var streamOptions = StreamOptions.Absent;
        var rootEnd = 0;
        Range? responseFormat = null, tools = null;
        var seen = Field.None;
        var reader = new Utf8JsonReader(body, ReaderOptions);
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return Failure.MalformedJson;
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var field = FieldOf(ref reader);
                if ((seen & field) != 0)
                {
                    // The gateway reads one value and the provider may read the other: refuse it rather than guess.
                    param = reader.GetString();
                    SkipToEnd(ref reader);
                    return field == Field.Model ? Failure.InvalidModel : Failure.DuplicateProperty;
                }

                seen |= field;
                if (field == Field.Model)
                {
                    reader.Read();
                    if (reader.TokenType != JsonTokenType.String)
                    {
                        reader.Skip();
                        SkipToEnd(ref reader);
                        return Failure.InvalidModel;
                    }

                    model = reader.GetString()!;
                    modelStart = (int)reader.TokenStartIndex;
                    modelLength = reader.ValueSpan.Length + 2;
                }
                else if (field == Field.Stream)
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
                else if (field == Field.StreamOptions)
                {
                    reader.Read();
                    streamOptions = ReadStreamOptions(ref reader);
                }
                else if (field is Field.ResponseFormat or Field.Tools)
                {
                    // Where the structured-output stage finds the schemas; it reads them only when they are there.
                    var isTools = field == Field.Tools;
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

    // Which of the properties the gateway reads this name is (an escaped name is unescaped first: "mod\u0065l" is model too).
    private static Field FieldOf(ref Utf8JsonReader reader)
    {
        if (!reader.ValueIsEscaped)
        {
            return FieldOf(reader.ValueSpan);
        }

        // Every known name fits in 128 bytes even with each character escaped (21 × 6); unescaping never lengthens.
        if (reader.ValueSpan.Length > 128)
        {
            return Field.None;
        }

        Span<byte> name = stackalloc byte[128];
        return FieldOf(name[..reader.CopyString(name)]);
    }

    private static Field FieldOf(ReadOnlySpan<byte> name) => name.Length switch
    {
        1 when name.SequenceEqual("n"u8) => Field.N,
        5 when name.SequenceEqual("model"u8) => Field.Model,
        5 when name.SequenceEqual("input"u8) => Field.Input,
        5 when name.SequenceEqual("tools"u8) => Field.Tools,
        6 when name.SequenceEqual("stream"u8) => Field.Stream,
        6 when name.SequenceEqual("prompt"u8) => Field.Prompt,
        8 when name.SequenceEqual("messages"u8) => Field.Messages,
        9 when name.SequenceEqual("functions"u8) => Field.Functions,
        10 when name.SequenceEqual("max_tokens"u8) => Field.MaxTokens,
        12 when name.SequenceEqual("instructions"u8) => Field.Instructions,
        14 when name.SequenceEqual("stream_options"u8) => Field.StreamOptions,
        15 when name.SequenceEqual("response_format"u8) => Field.ResponseFormat,
        17 when name.SequenceEqual("max_output_tokens"u8) => Field.MaxOutputTokens,
        21 when name.SequenceEqual("max_completion_tokens"u8) => Field.MaxCompletionTokens,
        _ => Field.None,
    };

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
