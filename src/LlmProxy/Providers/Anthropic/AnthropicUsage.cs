using System.Text.Json;
using LlmProxy.Usage;

namespace LlmProxy.Providers.Anthropic;

/// <summary>
/// Anthropic's token counts as OpenAI's. Anthropic's <c>input_tokens</c> leave out cache reads and writes, so
/// <c>prompt_tokens</c> = input + cache read + cache creation, <c>cached_tokens</c> = cache read (creation is reported as
/// <c>prompt_tokens_details.cache_creation_tokens</c>), and total = prompt + completion as in OpenAI's usage.
/// </summary>
internal sealed class AnthropicUsage
{
    /// <summary>Uncached input tokens.</summary>
    public long Input { get; private set; }

    /// <summary>Input tokens read from the prompt cache.</summary>
    public long CacheRead { get; private set; }

    /// <summary>Input tokens written to the prompt cache.</summary>
    public long CacheCreation { get; private set; }

    /// <summary>Output tokens (Anthropic's counts are cumulative: the last one seen is the total).</summary>
    public long Output { get; private set; }

    /// <summary>The usage as the gateway meters it.</summary>
    public TokenUsage ToTokenUsage() => new(Input + CacheRead + CacheCreation, Output, CacheRead, 0, Estimated: false);

    /// <summary>Takes the counts present in a <c>usage</c> object (absent ones keep their value).</summary>
    public void Read(JsonElement usage)
    {
        if (usage.ValueKind != JsonValueKind.Object)
        {
            return;
        }

        Input = Number(usage, "input_tokens") ?? Input;
        CacheRead = Number(usage, "cache_read_input_tokens") ?? CacheRead;
        CacheCreation = Number(usage, "cache_creation_input_tokens") ?? CacheCreation;
        Output = Number(usage, "output_tokens") ?? Output;
    }

    /// <summary>Writes OpenAI's <c>"usage": {...}</c>.</summary>
    public void Write(Utf8JsonWriter writer)
    {
        var prompt = Input + CacheRead + CacheCreation;
        writer.WriteStartObject("usage");
        writer.WriteNumber("prompt_tokens", prompt);
        writer.WriteNumber("completion_tokens", Output);
        writer.WriteNumber("total_tokens", prompt + Output);
        writer.WriteStartObject("prompt_tokens_details");
        writer.WriteNumber("cached_tokens", CacheRead);
        writer.WriteNumber("cache_creation_tokens", CacheCreation);
        writer.WriteEndObject();
        writer.WriteStartObject("completion_tokens_details");
        writer.WriteNumber("reasoning_tokens", 0);
        writer.WriteEndObject();
        writer.WriteEndObject();
    }

    private static long? Number(JsonElement usage, string name)
        => usage.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out var number) ? number : null;
}
