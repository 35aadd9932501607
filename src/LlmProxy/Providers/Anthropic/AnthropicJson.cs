using System.Text.Encodings.Web;
using System.Text.Json;

namespace LlmProxy.Providers.Anthropic;

/// <summary>How the Anthropic translators write JSON: non-ASCII text as UTF-8 (as providers send it), not as <c>\u</c> escapes.</summary>
internal static class AnthropicJson
{
    /// <summary>Writer options for request bodies, answers and stream chunks (JSON, never HTML).</summary>
    public static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>
    /// True for what System.Text.Json throws on JSON holding a string it cannot decode — a lone surrogate escape such as
    /// <c>"\ud800"</c> or <c>"\udc00"</c>, or invalid UTF-8 (which parsing does not check inside strings) — when the string is read (<see cref="JsonElement.GetString"/>:
    /// <see cref="InvalidOperationException"/>) or copied (<see cref="JsonElement.WriteTo"/>: <see cref="ArgumentException"/>).
    /// Only <see cref="JsonException"/> means "not JSON"; these mean the JSON cannot be translated.
    /// </summary>
    public static bool IsUndecodable(Exception exception) => exception is InvalidOperationException or ArgumentException;
}
