using System.Text.Encodings.Web;
using System.Text.Json;

namespace LlmProxy.Providers.Anthropic;

/// <summary>How the translators write JSON: non-ASCII text as UTF-8 (as the providers send it), not as <c>\u</c> escapes.</summary>
internal static class AnthropicJson
{
    /// <summary>Writer options for bodies and events that are JSON, never HTML.</summary>
    public static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
}
