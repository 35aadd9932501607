using System.Buffers.Binary;
using System.Text;
using System.Text.Json.Nodes;

namespace LlmProxy.Providers.Simulated;

/// <summary>Deterministic text, token counts and embeddings for the simulated provider.</summary>
internal static class SimulatedText
{
    private static readonly string[] Words =
    [
        "the", "gateway", "routes", "each", "request", "to", "a", "model", "and", "streams", "tokens", "back",
        "with", "exact", "usage", "cost", "latency", "for", "every", "team", "key", "provider", "simulated",
        "answer", "is", "deterministic", "so", "tests", "can", "check", "it", "word", "by",
    ];

    /// <summary>Stable 64-bit FNV-1a hash of a string.</summary>
    public static ulong Seed(string text)
    {
        var hash = 14695981039346656037UL;
        foreach (var c in text)
        {
            hash = (hash ^ c) * 1099511628211UL;
        }

        return hash;
    }

    /// <summary>The <paramref name="count"/> tokens of the answer for a prompt; each token is one word with its leading space.</summary>
    public static string[] Tokens(string prompt, int count)
    {
        var random = new Random(unchecked((int)Seed(prompt)));
        var tokens = new string[count];
        for (var i = 0; i < count; i++)
        {
            var word = Words[random.Next(Words.Length)];
            tokens[i] = i == 0 ? char.ToUpperInvariant(word[0]) + word[1..] : " " + word;
        }

        if (count > 0)
        {
            tokens[^1] += ".";
        }

        return tokens;
    }

    /// <summary>Rough token count of text: one per four characters, at least one.</summary>
    public static int CountTokens(string text) => Math.Max(1, (text.Length + 3) / 4);

    /// <summary>The text of a chat request's messages (string or content-part arrays).</summary>
    public static string PromptOf(JsonNode? messages)
    {
        var builder = new StringBuilder();
        if (messages is JsonArray array)
        {
            foreach (var message in array)
            {
                AppendContent(builder, message?["content"]);
                builder.Append('\n');
            }
        }
        else
        {
            AppendContent(builder, messages);
        }

        return builder.ToString();
    }

    /// <summary>Prompt tokens of a chat request: text tokens plus a few per message, as OpenAI counts framing.</summary>
    public static int PromptTokens(JsonNode? messages)
        => CountTokens(PromptOf(messages)) + (messages is JsonArray array ? 3 * array.Count + 3 : 0);

    /// <summary>A unit-length embedding vector for a text.</summary>
    public static float[] Embedding(string text, int dimensions)
    {
        var random = new Random(unchecked((int)Seed(text)));
        var vector = new float[dimensions];
        var norm = 0.0;
        for (var i = 0; i < dimensions; i++)
        {
            vector[i] = (float)(random.NextDouble() * 2 - 1);
            norm += vector[i] * vector[i];
        }

        var scale = (float)(1 / Math.Sqrt(norm));
        for (var i = 0; i < dimensions; i++)
        {
            vector[i] *= scale;
        }

        return vector;
    }

    /// <summary>The vector as base64 of little-endian float32, as OpenAI's <c>encoding_format: base64</c>.</summary>
    public static string ToBase64(float[] vector)
    {
        var bytes = new byte[vector.Length * 4];
        for (var i = 0; i < vector.Length; i++)
        {
            BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(i * 4), vector[i]);
        }

        return Convert.ToBase64String(bytes);
    }

    private static void AppendContent(StringBuilder builder, JsonNode? content)
    {
        switch (content)
        {
            case JsonValue value when value.TryGetValue<string>(out var text):
                builder.Append(text);
                break;
            case JsonArray parts:
                foreach (var part in parts)
                {
                    if (part is JsonValue partValue && partValue.TryGetValue<string>(out var partText))
                    {
                        builder.Append(partText);
                    }
                    else if (part?["text"] is JsonValue textValue && textValue.TryGetValue<string>(out var t))
                    {
                        builder.Append(t);
                    }
                }

                break;
        }
    }
}
