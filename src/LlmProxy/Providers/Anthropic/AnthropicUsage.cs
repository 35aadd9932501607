using System.Text.Json;
using LlmProxy.Usage;

namespace LlmProxy.Providers.Anthropic;

/// <summary>
/// Anthropic token counts and their OpenAI form. Anthropic's <c>input_tokens</c> excludes cache reads and writes, so
/// <c>prompt_tokens = input + cache_read + cache_creation</c>, <c>cached_tokens = cache_read</c> and
/// <c>total_tokens = prompt + completion</c> (OpenAI's invariant).
/// </summary>
internal record struct AnthropicUsage(long Input, long Output, long CacheRead, long CacheCreation)
{
    /// <summary>OpenAI's <c>prompt_tokens</c>.</summary>
    public readonly long Prompt => Input + CacheRead + CacheCreation;

    /// <summary>
    /// Takes the counts present in an Anthropic <c>usage</c> object, keeping the others. Stream counts are cumulative,
    /// so a later value replaces an earlier one.
    /// </summary>
    public void Update(JsonElement usage)
    {
        if (usage.ValueKind != JsonValueKind.Object)
        {
            return;
        }

        Input = Read(usage, "input_tokens", Input);
        Output = Read(usage, "output_tokens", Output);
        CacheRead = Read(usage, "cache_read_input_tokens", CacheRead);
        CacheCreation = Read(usage, "cache_creation_input_tokens", CacheCreation);
    }

    /// <summary>The gateway's usage (cached input is part of input).</summary>
    public readonly TokenUsage ToTokenUsage() => new(Prompt, Output, CacheRead, 0, false);

    /// <summary>Writes OpenAI's <c>usage</c> property.</summary>
    public readonly void Write(Utf8JsonWriter writer)
    {
        writer.WriteStartObject("usage");
        writer.WriteNumber("prompt_tokens", Prompt);
        writer.WriteNumber("completion_tokens", Output);
        writer.WriteNumber("total_tokens", Prompt + Output);
        writer.WriteStartObject("prompt_tokens_details");
        writer.WriteNumber("cached_tokens", CacheRead);
        writer.WriteNumber("cache_creation_tokens", CacheCreation);
        writer.WriteEndObject();
        writer.WriteStartObject("completion_tokens_details");
        writer.WriteNumber("reasoning_tokens", 0);
        writer.WriteEndObject();
        writer.WriteEndObject();
    }

    /// <summary>True when the <c>usage</c> object has the count <paramref name="name"/> (a whole number).</summary>
    public static bool HasCount(JsonElement usage, string name)
        => usage.ValueKind == JsonValueKind.Object && usage.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number
            && value.TryGetInt64(out _);

    private static long Read(JsonElement usage, string name, long current)
        => usage.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out var count)
            ? count
            : current;
}
