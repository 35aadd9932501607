using System.Text.Json;

namespace LlmProxy.Providers.Anthropic;

/// <summary>OpenAI <c>image_url</c> parts as Anthropic image blocks: base64 data URLs as <c>base64</c> sources, http(s) URLs as <c>url</c> sources.</summary>
internal static class AnthropicImages
{
    /// <summary>Writes the image block of an <c>image_url</c> object.</summary>
    public static void Write(JsonElement image, string path, Utf8JsonWriter writer)
    {
        var url = image.ValueKind == JsonValueKind.Object && image.TryGetProperty("url", out var u) && u.ValueKind == JsonValueKind.String ? u.GetString()! : null;
        writer.WriteStartObject();
        writer.WriteString("type", "image");
        writer.WriteStartObject("source");
        if (url is not null && url.StartsWith("data:", StringComparison.Ordinal))
        {
            var comma = url.IndexOf(',', StringComparison.Ordinal);
            var header = comma < 0 ? "" : url[5..comma];
            if (!header.EndsWith(";base64", StringComparison.Ordinal) || comma == url.Length - 1)
            {
                throw new AnthropicRequestException("Image data URLs must be base64 (data:<media type>;base64,<data>).", path);
            }

            writer.WriteString("type", "base64");
            writer.WriteString("media_type", header[..^7]);
            writer.WriteString("data", url.AsSpan(comma + 1));
        }
        else if (url is not null && (url.StartsWith("https://", StringComparison.OrdinalIgnoreCase) || url.StartsWith("http://", StringComparison.OrdinalIgnoreCase)))
        {
            writer.WriteString("type", "url");
            writer.WriteString("url", url);
        }
        else
        {
            throw new AnthropicRequestException("image_url.url must be an http(s) URL or a base64 data URL.", path);
        }

        writer.WriteEndObject();
        writer.WriteEndObject();
    }
}
