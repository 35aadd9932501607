using System.Buffers;
using System.Collections.Concurrent;
using System.IO.Hashing;
using System.Text.Json;
using Microsoft.ML.Tokenizers;

namespace LlmProxy.RateLimiting;

/// <summary>
/// The tokens a request reserves before it is sent: its prompt counted with the model's tiktoken encoding
/// (Microsoft.ML.Tokenizers) plus the most it may generate. Prompt text is every string in <c>messages</c>,
/// <c>prompt</c>, <c>input</c>, <c>instructions</c>, <c>tools</c> and <c>functions</c>, plus OpenAI's framing of 3 tokens
/// per message and 3 for the reply. Token ids given as numbers count one each.
/// Models that are not OpenAI's use o200k_base: an approximation, settled to the provider's real usage afterwards.
/// Counts of strings are cached by a hash of their bytes (bounded): system prompts, tool definitions and the earlier
/// turns of a conversation come back in request after request, and tokenizing costs about 13 µs per KB. Inline
/// <c>data:</c> URLs (images, audio, files) count a fixed 1,000 tokens each, and a string over 256 KB is estimated at
/// 4 bytes a token instead of tokenized.
/// One instance per host, a DI singleton: it owns the two tokenizers (loaded on first use) and the count cache, which
/// holds at most <see cref="MaxEntries"/> counts and starts again empty when full.
/// </summary>
public sealed class TokenEstimator
{
    /// <summary>Most string counts kept; when full, the cache starts again empty (concurrent inserts may pass it by a few for a moment).</summary>
    public const int MaxEntries = 100_000;

    private const int TokensPerMessage = 3;
    private const int ReplyPriming = 3;

    // Inline images, audio and files (data: URLs) are not text: a fixed estimate each (a high-detail 1024 px image is
    // 765 tokens for GPT-4o); settlement corrects it. Text beyond this many bytes is estimated at 4 bytes a token.
    private const int InlineDataTokens = 1000;
    private const int MaxTokenizedBytes = 256 * 1024;

    private readonly Lazy<Tokenizer> _o200k = new(static () => TiktokenTokenizer.CreateForEncoding("o200k_base"));
    private readonly Lazy<Tokenizer> _cl100k = new(static () => TiktokenTokenizer.CreateForEncoding("cl100k_base"));
    private readonly ConcurrentDictionary<(ulong Hash, int Length), int> _counts = new();

    /// <summary>String counts cached now.</summary>
    internal int CachedCount => _counts.Count;

    /// <summary>The encoding of a model: cl100k_base for GPT-4 / GPT-3.5 / the older embeddings, else o200k_base.</summary>
    public Tokenizer For(string model)
    {
        var isCl100k = (model.StartsWith("gpt-4", StringComparison.OrdinalIgnoreCase) && !model.StartsWith("gpt-4o", StringComparison.OrdinalIgnoreCase)
                && !model.StartsWith("gpt-4.", StringComparison.OrdinalIgnoreCase))
            || model.StartsWith("gpt-3.5", StringComparison.OrdinalIgnoreCase)
            || model.StartsWith("text-embedding-", StringComparison.OrdinalIgnoreCase);
        return isCl100k ? _cl100k.Value : _o200k.Value;
    }

    /// <summary>What one request reserves.</summary>
    /// <param name="Prompt">Prompt tokens.</param>
    /// <param name="MaxOutput">Output tokens it may generate (all choices).</param>
    public readonly record struct Estimate(long Prompt, long MaxOutput);

    /// <summary>Counts the prompt of a request body for <paramref name="model"/>'s encoding (<see cref="For"/>) and reads its output cap.</summary>
    public Estimate Count(ReadOnlySpan<byte> body, string model, bool producesText, int defaultMaxTokens)
        => Count(body, For(model), producesText, defaultMaxTokens);

    /// <summary>Counts the prompt and reads the output cap of a request body (a JSON object, already validated).</summary>
    public Estimate Count(ReadOnlySpan<byte> body, Tokenizer tokenizer, bool producesText, int defaultMaxTokens)
    {
        long prompt = 0;
        long? maxOutput = null;
        long choices = 1;
        var chars = ArrayPool<char>.Shared.Rent(1024);
        try
        {
            var reader = new Utf8JsonReader(body);
            reader.Read();
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals("messages"u8))
                {
                    reader.Read();
                    prompt += CountMessages(ref reader, tokenizer, ref chars);
                }
                else if (reader.ValueTextEquals("prompt"u8) || reader.ValueTextEquals("input"u8) || reader.ValueTextEquals("instructions"u8)
                    || reader.ValueTextEquals("tools"u8) || reader.ValueTextEquals("functions"u8))
                {
                    reader.Read();
                    prompt += CountValue(ref reader, tokenizer, ref chars);
                }
                else if (reader.ValueTextEquals("max_completion_tokens"u8) || reader.ValueTextEquals("max_tokens"u8) || reader.ValueTextEquals("max_output_tokens"u8))
                {
                    reader.Read();
                    if (reader.TokenType == JsonTokenType.Number && reader.TryGetInt64(out var cap) && cap >= 0)
                    {
                        maxOutput = maxOutput is { } other ? Math.Min(other, cap) : cap;
                    }
                }
                else if (reader.ValueTextEquals("n"u8))
                {
                    reader.Read();
                    if (reader.TokenType == JsonTokenType.Number && reader.TryGetInt64(out var n) && n is > 1 and <= 128)
                    {
                        choices = n;
                    }
                }
                else
                {
                    reader.Read();
                    reader.Skip();
                }
            }
        }
        finally
        {
            ArrayPool<char>.Shared.Return(chars);
        }

        var output = producesText ? (maxOutput ?? defaultMaxTokens) * choices : 0;
        return new Estimate(prompt, output);
    }

    private long CountMessages(ref Utf8JsonReader reader, Tokenizer tokenizer, ref char[] chars)
    {
        if (reader.TokenType != JsonTokenType.StartArray)
        {
            return CountValue(ref reader, tokenizer, ref chars);
        }

        long tokens = ReplyPriming;
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            tokens += TokensPerMessage + CountValue(ref reader, tokenizer, ref chars);
        }

        return tokens;
    }

    // Every string (and number, for token-id inputs) in the current value; property names do not count.
    private long CountValue(ref Utf8JsonReader reader, Tokenizer tokenizer, ref char[] chars)
    {
        if (reader.TokenType is not (JsonTokenType.StartObject or JsonTokenType.StartArray))
        {
            return CountScalar(ref reader, tokenizer, ref chars);
        }

        long tokens = 0;
        var depth = reader.CurrentDepth;
        while (reader.Read() && reader.CurrentDepth > depth)
        {
            tokens += CountScalar(ref reader, tokenizer, ref chars);
        }

        return tokens;
    }

    private int CountScalar(ref Utf8JsonReader reader, Tokenizer tokenizer, ref char[] chars) => reader.TokenType switch
    {
        JsonTokenType.String => CountString(ref reader, tokenizer, ref chars),
        JsonTokenType.Number => 1,
        _ => 0,
    };

    private int CountString(ref Utf8JsonReader reader, Tokenizer tokenizer, ref char[] chars)
    {
        var length = reader.HasValueSequence ? (int)reader.ValueSequence.Length : reader.ValueSpan.Length;
        if (length == 0)
        {
            return 0;
        }

        if (!reader.HasValueSequence && reader.ValueSpan.StartsWith("data:"u8))
        {
            return InlineDataTokens;
        }

        if (length > MaxTokenizedBytes)
        {
            return (length + 3) / 4;
        }

        if (reader.HasValueSequence)
        {
            return Tokenize(ref reader, tokenizer, ref chars, length);
        }

        // The raw (still escaped) bytes and the encoding identify the count.
        var key = (XxHash3.HashToUInt64(reader.ValueSpan, ReferenceEquals(tokenizer, _o200k.Value) ? 1 : 2), length);
        if (_counts.TryGetValue(key, out var cached))
        {
            return cached;
        }

        var count = Tokenize(ref reader, tokenizer, ref chars, length);
        if (_counts.Count >= MaxEntries)
        {
            _counts.Clear();
        }

        _counts[key] = count;
        return count;
    }

    private static int Tokenize(ref Utf8JsonReader reader, Tokenizer tokenizer, ref char[] chars, int length)
    {
        if (chars.Length < length)
        {
            ArrayPool<char>.Shared.Return(chars);
            chars = ArrayPool<char>.Shared.Rent(length);
        }

        var written = reader.CopyString(chars);
        return tokenizer.CountTokens(chars.AsSpan(0, written));
    }
}
