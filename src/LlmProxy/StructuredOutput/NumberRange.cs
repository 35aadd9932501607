using System.Runtime.InteropServices;
using System.Text.Json;

namespace LlmProxy.StructuredOutput;

/// <summary>
/// The numbers the validator can check. JsonSchema.Net compares and divides numbers exactly: one written with a huge
/// exponent (<c>1e9999999</c>) makes <c>multipleOf</c> run out of stack, which ends the process, however the call is
/// guarded. A schema holding such a number is the client's 400, and an answer holding one fails (it cannot be checked).
/// </summary>
internal static class NumberRange
{
    /// <summary>Longest number text accepted.</summary>
    public const int MaxLength = 1000;

    /// <summary>Largest exponent magnitude accepted (about ten times the double range).</summary>
    public const int MaxExponent = 3000;

    /// <summary>The first number in the value (depth first) that is too large to check, or null.</summary>
    public static string? FirstUncheckable(JsonElement element)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Number:
                var raw = JsonMarshal.GetRawUtf8Value(element);
                return IsCheckable(raw) ? null : System.Text.Encoding.UTF8.GetString(raw[..Math.Min(raw.Length, 40)]);
            case JsonValueKind.Object:
                foreach (var property in element.EnumerateObject())
                {
                    if (FirstUncheckable(property.Value) is { } found)
                    {
                        return found;
                    }
                }

                return null;
            case JsonValueKind.Array:
                foreach (var item in element.EnumerateArray())
                {
                    if (FirstUncheckable(item) is { } found)
                    {
                        return found;
                    }
                }

                return null;
            default:
                return null;
        }
    }

    /// <summary>True for a JSON number of at most <see cref="MaxLength"/> characters whose exponent is within ±<see cref="MaxExponent"/>.</summary>
    public static bool IsCheckable(ReadOnlySpan<byte> number)
    {
        if (number.Length > MaxLength)
        {
            return false;
        }

        var e = number.IndexOfAny((byte)'e', (byte)'E');
        if (e < 0)
        {
            return true;
        }

        var digits = number[(e + 1)..].TrimStart("+-"u8).TrimStart((byte)'0');
        if (digits.Length > 4)
        {
            return false;
        }

        var exponent = 0;
        foreach (var digit in digits)
        {
            exponent = (exponent * 10) + (digit - '0');
        }

        return exponent <= MaxExponent;
    }
}
