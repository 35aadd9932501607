using System.Text.Json;
using Json.Schema;

namespace LlmProxy.StructuredOutput;

/// <summary>
/// The format checks answers are validated with, in place of JsonSchema.Net's for the formats OpenAI's structured
/// outputs name: date-time, date, time, duration, email, hostname, ipv4, ipv6 and uuid, each exactly as its RFC's ABNF
/// reads (no trailing newline, no surrounding white space, ASCII digits only) and without regexes or allocations
/// beyond reading the string. Values that are not strings pass, as every format requires.
/// </summary>
internal static class StrictFormats
{
    /// <summary>A new registry that overrides those formats and falls back to JsonSchema.Net's global one for the rest.</summary>
    public static FormatRegistry Create()
    {
        var registry = new FormatRegistry();
        registry.Register(new PredicateFormat("date-time", static v => NotString(v) || Rfc3339.IsDateTime(v.GetString())));
        registry.Register(new PredicateFormat("date", static v => NotString(v) || Rfc3339.IsDate(v.GetString())));
        registry.Register(new PredicateFormat("time", static v => NotString(v) || Rfc3339.IsTime(v.GetString())));
        registry.Register(new PredicateFormat("duration", static v => NotString(v) || DurationFormat.IsDuration(v.GetString())));
        registry.Register(new PredicateFormat("email", static v => NotString(v) || EmailFormat.IsEmail(v.GetString())));
        registry.Register(new PredicateFormat("hostname", static v => NotString(v) || HostnameFormat.IsHostname(v.GetString())));
        registry.Register(new PredicateFormat("ipv4", static v => NotString(v) || IpAddressFormats.IsIpv4(v.GetString())));
        registry.Register(new PredicateFormat("ipv6", static v => NotString(v) || IpAddressFormats.IsIpv6(v.GetString())));
        registry.Register(new PredicateFormat("uuid", static v => NotString(v) || IsUuid(v.GetString())));
        return registry;
    }

    private static bool NotString(JsonElement value) => value.ValueKind != JsonValueKind.String;

    // 8-4-4-4-12 hex digits, any case, any version and variant.
    private static bool IsUuid(ReadOnlySpan<char> s)
    {
        if (s.Length != 36)
        {
            return false;
        }

        for (var i = 0; i < s.Length; i++)
        {
            if (i is 8 or 13 or 18 or 23 ? s[i] != '-' : !char.IsAsciiHexDigit(s[i]))
            {
                return false;
            }
        }

        return true;
    }
}
