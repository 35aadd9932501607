using System.Text.Json;

namespace LlmProxy.Providers.Anthropic;

/// <summary>
/// An OpenAI <c>image_url</c> part as an Anthropic image block: <c>data:&lt;media&gt;;base64,&lt;data&gt;</c> →
/// a base64 source, <c>http(s)://</c> → a url source. Other URLs are a 400.
/// </summary>
internal static class AnthropicImageSource
{
    private const string Base64Marker = ";base64";

    /// <summary>Writes the image block of <paramref name="part"/> (an object with <c>image_url.url</c>, or a string <c>image_url</c>).</summary>
    public static void Write(JsonElement part, string param, Utf8JsonWriter writer)
    {
        var url = UrlOf(part, param);
        writer.WriteStartObject();
        writer.WriteString("type", "image");
        writer.WriteStartObject("source");
        if (url.StartsWith("data:", StringComparison.OrdinalIgnoreCase))
        {
            var (mediaType, data) = ParseDataUrl(url, param);
            writer.WriteString("type", "base64");
            writer.WriteString("media_type", mediaType);
            writer.WriteString("data", data);
        }
        else if (Uri.TryCreate(url, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttps || uri.Scheme == Uri.UriSchemeHttp))
        {
            writer.WriteString("type", "url");
            writer.WriteString("url", url);
        }
        else
        {
            throw new AnthropicRequestException("Image URLs must be http(s) URLs or base64 data URLs.", param + ".image_url.url");
        }

        writer.WriteEndObject();
        writer.WriteEndObject();
    }

    private static string UrlOf(JsonElement part, string param)
    {
        if (part.TryGetProperty("image_url", out var image))
        {
            if (image.ValueKind == JsonValueKind.String)
            {
                return image.GetString()!;
            }

            if (image.ValueKind == JsonValueKind.Object && image.TryGetProperty("url", out var url) && url.ValueKind == JsonValueKind.String)
            {
                return url.GetString()!;
            }
        }

        throw new AnthropicRequestException($"'{param}.image_url.url' must be a string.", param + ".image_url.url");
    }

    /// <summary>Splits <c>data:image/png;base64,AAAA</c> into its media type (parameters dropped) and its data.</summary>
    private static (string MediaType, string Data) ParseDataUrl(string url, string param)
    {
        var comma = url.IndexOf(',', StringComparison.Ordinal);
        var header = comma < 0 ? string.Empty : url[5..comma];
        if (comma < 0 || !header.EndsWith(Base64Marker, StringComparison.OrdinalIgnoreCase))
        {
            throw new AnthropicRequestException("Image data URLs must be base64-encoded (data:<media type>;base64,<data>).", param + ".image_url.url");
        }

        var semicolon = header.IndexOf(';', StringComparison.Ordinal);
        var mediaType = header[..semicolon].Trim().ToLowerInvariant();
        var data = url[(comma + 1)..];
        if (mediaType.Length == 0 || data.Length == 0)
        {
            throw new AnthropicRequestException("Image data URLs need a media type and data.", param + ".image_url.url");
        }

        return (mediaType, data);
    }
}
