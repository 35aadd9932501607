using System.Collections.Frozen;
using System.Reflection;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace LlmProxy.Configuration;

/// <summary>
/// Reads and writes a config enum as the exact string its member's <see cref="JsonStringEnumMemberNameAttribute"/> gives
/// (case-sensitive; numbers are not accepted). Any other value fails the parse with
/// <c>must be 'a', 'b' or 'c', not 'x'</c>, reported by <see cref="ConfigFile"/> with the value's config path.
/// </summary>
/// <typeparam name="TEnum">The config enum; every member carries a <see cref="JsonStringEnumMemberNameAttribute"/>.</typeparam>
internal sealed class ConfigEnumConverter<TEnum> : JsonConverter<TEnum>
    where TEnum : struct, Enum
{
    private readonly FrozenDictionary<string, TEnum> _values;
    private readonly FrozenDictionary<TEnum, string> _names;
    private readonly string _choices;

    public ConfigEnumConverter()
    {
        var names = new List<string>();
        var values = new Dictionary<string, TEnum>(StringComparer.Ordinal);
        foreach (var field in typeof(TEnum).GetFields(BindingFlags.Public | BindingFlags.Static))
        {
            var name = field.GetCustomAttribute<JsonStringEnumMemberNameAttribute>()?.Name
                ?? throw new InvalidOperationException($"{typeof(TEnum).Name}.{field.Name} has no [JsonStringEnumMemberName]");
            names.Add(name);
            values.Add(name, (TEnum)field.GetValue(null)!);
        }

        _values = values.ToFrozenDictionary(StringComparer.Ordinal);
        _names = values.ToFrozenDictionary(static p => p.Value, static p => p.Key);
        var quoted = names.ConvertAll(static n => $"'{n}'");
        _choices = quoted.Count == 1 ? quoted[0] : $"{string.Join(", ", quoted.GetRange(0, quoted.Count - 1))} or {quoted[^1]}";
    }

    /// <inheritdoc/>
    public override TEnum Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType != JsonTokenType.String)
        {
            throw new ConfigChoiceException($"must be {_choices}");
        }

        var text = reader.GetString()!;
        return _values.TryGetValue(text, out var value) ? value : throw new ConfigChoiceException($"must be {_choices}, not '{text}'");
    }

    /// <inheritdoc/>
    public override void Write(Utf8JsonWriter writer, TEnum value, JsonSerializerOptions options)
        => writer.WriteStringValue(_names.TryGetValue(value, out var name) ? name : throw new JsonException($"{typeof(TEnum).Name} has no value {value}"));
}
