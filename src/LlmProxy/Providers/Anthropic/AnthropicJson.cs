using System.Text.Encodings.Web;
using System.Text.Json;

namespace LlmProxy.Providers.Anthropic;

/// <summary>How the Anthropic translators write JSON: non-ASCII text as UTF-8 (as providers send it), not as <c>\u</c> escapes.</summary>
internal static class AnthropicJson
{
    /// <summary>Writer options for request bodies, answers and stream chunks (JSON, never HTML).</summary>
    public static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
}
