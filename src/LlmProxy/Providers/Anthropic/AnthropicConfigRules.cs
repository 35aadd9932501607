using System.Text.RegularExpressions;
using LlmProxy.Configuration;

namespace LlmProxy.Providers.Anthropic;

/// <summary>The config rules and defaults of an <c>anthropic</c> provider.</summary>
internal static partial class AnthropicConfigRules
{
    /// <summary>Used when the config gives no base_url (the gateway appends <c>/v1/messages</c>).</summary>
    public const string DefaultBaseUrl = "https://api.anthropic.com";

    /// <summary>The <c>anthropic-version</c> header when the config names none.</summary>
    public const string DefaultVersion = "2023-06-01";

    /// <summary><c>max_tokens</c> sent when neither the client nor the config gives one.</summary>
    public const int DefaultMaxTokens = 4096;

    /// <summary>Largest configurable default <c>max_tokens</c>.</summary>
    public const int MaxDefaultMaxTokens = 1_000_000;

    /// <summary>Adds the errors of an Anthropic provider's settings.</summary>
    public static void Validate(string path, ProviderConfig provider, List<string> errors)
    {
        if (provider.AnthropicVersion is { } version && !VersionPattern().IsMatch(version))
        {
            errors.Add($"{path}.anthropic_version: must be a date such as '{DefaultVersion}'");
        }

        if (provider.DefaultMaxTokens is < 1 or > MaxDefaultMaxTokens)
        {
            errors.Add($"{path}.default_max_tokens: must be between 1 and {MaxDefaultMaxTokens}");
        }

        if (provider.InjectStreamUsage is not null)
        {
            errors.Add($"{path}.inject_stream_usage: not for an anthropic provider (its streams always report usage)");
        }
    }

    [GeneratedRegex("^[0-9]{4}-[0-9]{2}-[0-9]{2}$")]
    private static partial Regex VersionPattern();
}
