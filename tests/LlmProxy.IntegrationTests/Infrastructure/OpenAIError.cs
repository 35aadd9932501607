using System.Text.Json;

namespace LlmProxy.IntegrationTests.Infrastructure;

/// <summary>Reads and checks OpenAI-shaped error bodies.</summary>
public static class OpenAIError
{
    /// <summary>
    /// Asserts the status, that the body is exactly <c>{"error":{"message","type","param","code"}}</c> with all
    /// four keys, and returns the error object.
    /// </summary>
    public static async Task<JsonElement> AssertAsync(HttpResponseMessage response, int status, string type, string? code)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(status == (int)response.StatusCode, $"expected {status}, got {(int)response.StatusCode}: {text}");
        Assert.StartsWith("application/json", response.Content.Headers.ContentType?.ToString());
        using var document = JsonDocument.Parse(text);
        var error = document.RootElement.GetProperty("error");
        var names = error.EnumerateObject().Select(p => p.Name).Order().ToArray();
        Assert.Equal(["code", "message", "param", "type"], names);
        Assert.False(string.IsNullOrWhiteSpace(error.GetProperty("message").GetString()));
        Assert.Equal(type, error.GetProperty("type").GetString());
        if (code is null)
        {
            Assert.Equal(JsonValueKind.Null, error.GetProperty("code").ValueKind);
        }
        else
        {
            Assert.Equal(code, error.GetProperty("code").GetString());
        }

        return error.Clone();
    }

    /// <summary>Posts JSON text.</summary>
    public static Task<HttpResponseMessage> PostJsonAsync(this HttpClient client, string path, string json)
        => client.PostAsync(path, new StringContent(json, System.Text.Encoding.UTF8, "application/json"));
}
