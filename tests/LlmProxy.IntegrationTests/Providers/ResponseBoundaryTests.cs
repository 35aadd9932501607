using System.Text;
using LlmProxy.IntegrationTests.Infrastructure;
using Microsoft.AspNetCore.Http;

namespace LlmProxy.IntegrationTests.Providers;

/// <summary>What of a provider's answer reaches the client: an allow-list of headers, and nothing that carries the provider's credential.</summary>
public sealed class ResponseBoundaryTests
{
    private const string Chat = """{"model":"test-model","messages":[{"role":"user","content":"hi"}]}""";
    private const string StreamChat = """{"model":"test-model","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"hi"}]}""";

    // The key as a JSON string would spell it with every character escaped.
    private static readonly string EscapedKey = string.Concat(TestKeys.ProviderSecret.Select(c => $"\\u{(int)c:x4}"));

    [Theory]
    [InlineData(200)]
    [InlineData(400)]
    [InlineData(401)]
    [InlineData(429)]
    public async Task Post_ProviderHeadersCarryItsKey_ClientGetsNoneOfThem(int status)
    {
        await using var upstream = await TestUpstream.StartAsync(async context =>
        {
            context.Response.StatusCode = status;
            context.Response.ContentType = "application/json";
            context.Response.Headers["x-echo-key"] = TestKeys.ProviderSecret;
            context.Response.Headers["Set-Cookie"] = "session=" + TestKeys.ProviderSecret;
            context.Response.Headers["openai-organization"] = "org-gateway";
            context.Response.Headers["Via"] = "1.1 provider-edge";
            context.Response.Headers["x-request-id"] = "req_" + TestKeys.ProviderSecret;
            context.Response.Headers["openai-processing-ms"] = "42";
            context.Response.Headers["retry-after"] = "1";
            await context.Response.WriteAsync(status == 200
                ? """{"id":"c1","object":"chat.completion","choices":[]}"""
                : """{"error":{"message":"nope","type":"invalid_request_error","param":null,"code":null}}""");
        });
        await using var app = TestConfig.SingleModel(upstream.Address + "/v1").Start();
        using var client = app.CreateClient();

        using var response = await client.PostAsync("/v1/chat/completions", new StringContent(Chat, Encoding.UTF8, "application/json"));

        var all = response.Headers.Concat(response.Content.Headers).ToList();
        Assert.DoesNotContain(all, h => h.Value.Any(v => v.Contains(TestKeys.ProviderSecret, StringComparison.Ordinal)));
        Assert.False(response.Headers.Contains("x-echo-key"));
        Assert.False(response.Headers.Contains("Set-Cookie"));
        Assert.False(response.Headers.Contains("openai-organization"));
        Assert.False(response.Headers.Contains("Via"));
        Assert.False(response.Headers.Contains("Server"));
        Assert.Equal("42", response.Headers.GetValues("openai-processing-ms").Single());
        Assert.Equal("1", response.Headers.GetValues("retry-after").Single());
        Assert.StartsWith("req_[redacted]", response.Headers.GetValues("x-upstream-request-id").Single(), StringComparison.Ordinal);
        Assert.DoesNotContain(TestKeys.ProviderSecret, await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Post_ProviderNamesAnAllowedHeaderInConnection_ItIsNotPassedOn()
    {
        await using var upstream = await TestUpstream.StartAsync(async context =>
        {
            context.Response.ContentType = "application/json";
            context.Response.Headers.Connection = "openai-processing-ms";
            context.Response.Headers["openai-processing-ms"] = "7";
            await context.Response.WriteAsync("""{"id":"c1","object":"chat.completion","choices":[]}""");
        });
        await using var app = TestConfig.SingleModel(upstream.Address + "/v1").Start();
        using var client = app.CreateClient();

        using var response = await client.PostAsync("/v1/chat/completions", new StringContent(Chat, Encoding.UTF8, "application/json"));

        Assert.Equal(200, (int)response.StatusCode);
        Assert.False(response.Headers.Contains("openai-processing-ms"));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Post_ErrorEventInA200StreamEchoesTheKey_ClientStreamCarriesNoTraceOfIt(bool escaped)
    {
        var key = escaped ? EscapedKey : TestKeys.ProviderSecret;
        await using var upstream = await TestUpstream.StartAsync(async context =>
        {
            context.Response.ContentType = "text/event-stream";
            await context.Response.WriteAsync("data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hi\"},\"finish_reason\":null}]}\n\n");
            await context.Response.Body.FlushAsync();
            // The key split over two writes: the gateway must not pass its first half on before it sees the rest.
            var error = "data: {\"error\":{\"message\":\"Quota exceeded for key " + key + "\",\"type\":\"server_error\",\"param\":null,\"code\":null}}\n\n";
            var middle = error.IndexOf(key, StringComparison.Ordinal) + (key.Length / 2);
            await context.Response.WriteAsync(error[..middle]);
            await context.Response.Body.FlushAsync();
            await context.Response.WriteAsync(error[middle..]);
        });
        await using var app = TestConfig.SingleModel(upstream.Address + "/v1").Start();
        using var client = app.CreateClient();

        using var response = await client.PostAsync("/v1/chat/completions", new StringContent(StreamChat, Encoding.UTF8, "application/json"));
        var text = await response.Content.ReadAsStringAsync();

        Assert.Equal(200, (int)response.StatusCode);
        Assert.Contains("Quota exceeded for key [redacted]", text, StringComparison.Ordinal);
        Assert.DoesNotContain(TestKeys.ProviderSecret, System.Text.RegularExpressions.Regex.Unescape(text), StringComparison.Ordinal);
        Assert.DoesNotContain(TestKeys.ProviderSecret[..8], text, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(200)]
    [InlineData(400)]
    [InlineData(403)]
    public async Task Post_JsonBodyEchoesTheKeyEscaped_ClientBodyDecodesWithoutIt(int status)
    {
        await using var upstream = await TestUpstream.StartAsync(async context =>
        {
            context.Response.StatusCode = status;
            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync(status == 200
                ? "{\"id\":\"c1\",\"object\":\"chat.completion\",\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":\"" + EscapedKey + "\"},\"finish_reason\":\"stop\"}]}"
                : "{\"error\":{\"message\":\"bad key " + EscapedKey + "\",\"type\":\"invalid_request_error\",\"param\":null,\"code\":null}}");
        });
        await using var app = TestConfig.SingleModel(upstream.Address + "/v1").Start();
        using var client = app.CreateClient();

        using var response = await client.PostAsync("/v1/chat/completions", new StringContent(Chat, Encoding.UTF8, "application/json"));
        var text = await response.Content.ReadAsStringAsync();

        Assert.Equal(status, (int)response.StatusCode);
        using var document = System.Text.Json.JsonDocument.Parse(text);
        Assert.DoesNotContain(TestKeys.ProviderSecret, System.Text.RegularExpressions.Regex.Unescape(text), StringComparison.Ordinal);
        Assert.Contains("[redacted]", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Post_ProviderHeaderNameCarriesItsKey_HeaderDropped()
    {
        await using var upstream = await TestUpstream.StartAsync(async context =>
        {
            context.Response.ContentType = "application/json";
            context.Response.Headers["anthropic-ratelimit-" + TestKeys.ProviderSecret] = "1";
            context.Response.Headers["x-ratelimit-" + TestKeys.ProviderSecret] = "1";
            context.Response.Headers["x-ratelimit-remaining-requests"] = "9";
            await context.Response.WriteAsync("""{"id":"c1","object":"chat.completion","choices":[]}""");
        });
        await using var app = TestConfig.SingleModel(upstream.Address + "/v1").Start();
        using var client = app.CreateClient();

        using var response = await client.PostAsync("/v1/chat/completions", new StringContent(Chat, Encoding.UTF8, "application/json"));

        Assert.DoesNotContain(response.Headers, h => h.Key.Contains(TestKeys.ProviderSecret, StringComparison.OrdinalIgnoreCase));
        Assert.Equal("9", response.Headers.GetValues("x-ratelimit-remaining-requests").Single());
    }

    [Theory]
    [InlineData(200)]
    [InlineData(400)]
    [InlineData(401)]
    [InlineData(429)]
    public async Task Post_ProviderReasonPhraseCarriesItsKey_ClientGetsTheStandardPhrase(int status)
    {
        await using var upstream = await TestUpstream.StartAsync(async context =>
        {
            context.Response.StatusCode = status;
            context.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpResponseFeature>()!.ReasonPhrase = "Bad key " + TestKeys.ProviderSecret;
            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync(status == 200
                ? """{"id":"c1","object":"chat.completion","choices":[]}"""
                : """{"error":{"message":"x","type":"invalid_request_error","param":null,"code":null}}""");
        });
        await using var app = TestConfig.SingleModel(upstream.Address + "/v1").Start();
        using var client = app.CreateClient();

        using var response = await client.PostAsync("/v1/chat/completions", new StringContent(Chat, Encoding.UTF8, "application/json"));

        Assert.DoesNotContain(TestKeys.ProviderSecret, response.ReasonPhrase ?? "", StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("gzip", 200)]
    [InlineData("gzip, identity", 200)]
    [InlineData("identity, gzip", 200)]
    [InlineData("zstd", 502)]
    public async Task Post_ProviderCompressesAnyway_DecodedAndRedactedOrRefused(string encoding, int status)
    {
        using var compressed = new MemoryStream();
        using (var gzip = new System.IO.Compression.GZipStream(compressed, System.IO.Compression.CompressionLevel.Fastest, leaveOpen: true))
        {
            gzip.Write(Encoding.UTF8.GetBytes("{\"id\":\"c1\",\"object\":\"chat.completion\",\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":\""
                + TestKeys.ProviderSecret + "\"},\"finish_reason\":\"stop\"}]}"));
        }

        var bytes = compressed.ToArray();
        await using var upstream = await TestUpstream.StartAsync(async context =>
        {
            context.Response.ContentType = "application/json";
            context.Response.Headers.ContentEncoding = encoding;
            await context.Response.Body.WriteAsync(bytes);
        });
        await using var app = TestConfig.SingleModel(upstream.Address + "/v1").Start();
        using var client = app.CreateClient();

        using var response = await client.PostAsync("/v1/chat/completions", new StringContent(Chat, Encoding.UTF8, "application/json"));
        var text = await response.Content.ReadAsStringAsync();

        Assert.Equal(status, (int)response.StatusCode);
        Assert.Empty(response.Content.Headers.ContentEncoding);
        if (status == 200)
        {
            Assert.Contains("[redacted]", text, StringComparison.Ordinal);
        }
        else
        {
            await OpenAIError.AssertAsync(response, 502, "server_error", "upstream_error");
        }
    }

    [Fact]
    public async Task Post_PlaceholderKeyOfALocalServer_AnswersLeftAsTheyAre()
    {
        Environment.SetEnvironmentVariable("LLMPROXY_TEST_PLACEHOLDER_KEY", "unused");
        const string answer = """{"id":"c1","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"Remove the unused import."},"finish_reason":"stop"}]}""";
        await using var upstream = await TestUpstream.StartAsync(async context =>
        {
            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync(answer);
        });
        var config = TestConfig.SingleModel(upstream.Address + "/v1");
        config["providers"]!["up"]!["api_key"] = "env:LLMPROXY_TEST_PLACEHOLDER_KEY";
        await using var app = config.Start();
        using var client = app.CreateClient();

        using var response = await client.PostAsync("/v1/chat/completions", new StringContent(Chat, Encoding.UTF8, "application/json"));

        Assert.Equal(answer, await response.Content.ReadAsStringAsync());
        Assert.Contains(app.Logs.GetSnapshot(), r => r.Message.Contains("providers.up.api_key: shorter than 16", StringComparison.Ordinal));
    }
}
