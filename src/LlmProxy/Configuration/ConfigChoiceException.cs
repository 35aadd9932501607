using System.Text.Json;

namespace LlmProxy.Configuration;

/// <summary>
/// A config value outside its closed set (an enum's names). The message is the one the validator gives for any bad value
/// (<c>must be 'keys' or 'none', not 'open'</c>); <see cref="ConfigFile"/> prefixes it with the value's config path.
/// </summary>
internal sealed class ConfigChoiceException(string message) : JsonException(message);
