using System.Buffers.Binary;
using System.Diagnostics;
using System.Text;
using System.Text.Json.Nodes;
using LlmProxy.IntegrationTests.Infrastructure;

namespace LlmProxy.IntegrationTests.Providers;

public sealed class SimulatedProviderTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task Chat_SameRequestTwice_DeterministicTextAndConsistentUsage()
    {
        await using var app = TestConfig.Simulated().Start();
        using var client = app.CreateClient();
        const string body = """{"model":"sim-chat","messages":[{"role":"user","content":"Tell me about gateways"}]}""";

        var first = JsonNode.Parse(await (await client.PostJsonAsync("/v1/chat/completions", body)).Content.ReadAsStringAsync())!;
        var second = JsonNode.Parse(await (await client.PostJsonAsync("/v1/chat/completions", body)).Content.ReadAsStringAsync())!;

        var text = (string?)first["choices"]![0]!["message"]!["content"];
        Assert.False(string.IsNullOrWhiteSpace(text));
        Assert.Equal(text, (string?)second["choices"]![0]!["message"]!["content"]);
        Assert.Equal("chat.completion", (string?)first["object"]);
        Assert.Equal("sim-upstream", (string?)first["model"]);
        var usage = first["usage"]!;
        Assert.True((int)usage["prompt_tokens"]! > 0);
        Assert.Equal(24, (int)usage["completion_tokens"]!);
        Assert.Equal((int)usage["prompt_tokens"]! + (int)usage["completion_tokens"]!, (int)usage["total_tokens"]!);
        Assert.Equal("stop", (string?)first["choices"]![0]!["finish_reason"]);
    }

    [Fact]
    public async Task Chat_MaxTokensBelowDefault_StopsWithLength()
    {
        await using var app = TestConfig.Simulated().Start();
        using var client = app.CreateClient();

        var answer = JsonNode.Parse(await (await client.PostJsonAsync("/v1/chat/completions", """{"model":"sim-chat","max_completion_tokens":3,"messages":[]}""")).Content.ReadAsStringAsync())!;

        Assert.Equal(3, (int)answer["usage"]!["completion_tokens"]!);
        Assert.Equal("length", (string?)answer["choices"]![0]!["finish_reason"]);
    }

    [Fact]
    public async Task ChatStream_WithIncludeUsage_ChunksMatchUsageAndEndWithDone()
    {
        await using var app = TestConfig.Simulated().Start();
        using var client = app.CreateClient();

        var events = await ReadEventsAsync(client, """{"model":"sim-chat","stream":true,"max_tokens":5,"stream_options":{"include_usage":true},"messages":[]}""");

        Assert.Equal("[DONE]", events[^1]);
        var chunks = events[..^1].Select(e => JsonNode.Parse(e)!).ToList();
        Assert.All(chunks, c => Assert.Equal("chat.completion.chunk", (string?)c["object"]));
        Assert.Single(chunks.Select(c => (string?)c["id"]).Distinct());
        var content = chunks.Where(c => c["choices"]!.AsArray().Count > 0 && c["choices"]![0]!["delta"]!["content"] is not null)
            .Select(c => (string?)c["choices"]![0]!["delta"]!["content"]).Where(t => !string.IsNullOrEmpty(t)).ToList();
        var usage = chunks[^1]["usage"]!;
        Assert.Empty(chunks[^1]["choices"]!.AsArray());
        Assert.Equal(content.Count, (int)usage["completion_tokens"]!);
        Assert.Equal(5, content.Count);
        Assert.Equal("length", (string?)chunks[^2]["choices"]![0]!["finish_reason"]);
    }

    [Fact]
    public async Task ChatStream_ConfiguredLatency_FirstTokenAndGapsNoSoonerThanConfigured()
    {
        await using var app = TestConfig.Simulated(new JsonObject { ["ttft_ms"] = 300, ["inter_token_ms"] = 40, ["default_max_tokens"] = 5 }).Start();
        using var client = app.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions")
        {
            Content = new StringContent("""{"model":"sim-chat","stream":true,"messages":[]}""", Encoding.UTF8, "application/json"),
        };

        var clock = Stopwatch.StartNew();
        using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        var firstEvent = await reader.ReadLineAsync().WaitAsync(Patience);
        var timeToFirst = clock.Elapsed;
        await reader.ReadToEndAsync().WaitAsync(Patience);
        var total = clock.Elapsed;

        Assert.StartsWith("data: ", firstEvent, StringComparison.Ordinal);
        Assert.True(timeToFirst >= TimeSpan.FromMilliseconds(300), $"first event after {timeToFirst.TotalMilliseconds} ms");
        Assert.True(total >= TimeSpan.FromMilliseconds(300 + (4 * 40)), $"stream took {total.TotalMilliseconds} ms");
    }

    [Fact]
    public async Task Chat_ErrorInjectionAlways429_ClientGetsRetryAfterAndOpenAIError()
    {
        await using var app = TestConfig.Simulated(new JsonObject { ["ttft_ms"] = 0, ["error_rate"] = 1.0, ["error_status"] = 429, ["retry_after_seconds"] = 7 }).Start();
        using var client = app.CreateClient();

        using var response = await client.PostJsonAsync("/v1/chat/completions", """{"model":"sim-chat","messages":[]}""");

        await OpenAIError.AssertAsync(response, 429, "requests", "rate_limit_exceeded");
        Assert.Equal("7", response.Headers.GetValues("Retry-After").Single());
    }

    [Fact]
    public async Task Chat_ErrorInjectionHalfWithoutRetries_SomeRequestsFailWithConfiguredStatus()
    {
        var config = TestConfig.Simulated(new JsonObject { ["ttft_ms"] = 0, ["inter_token_ms"] = 0, ["error_rate"] = 0.5, ["error_status"] = 503 });
        config["models"]!["sim-chat"]!["retry"] = new JsonObject { ["max_attempts"] = 1 };
        await using var app = config.Start();

        var statuses = await StatusesAsync(app, 100);

        Assert.All(statuses, s => Assert.Contains(s, new[] { 200, 503 }));
        Assert.InRange(statuses.Count(s => s == 503), 20, 80);
    }

    [Fact]
    public async Task Chat_ErrorInjectionHalfWithDefaultRetries_MostFailuresRescued()
    {
        await using var app = TestConfig.Simulated(new JsonObject { ["ttft_ms"] = 0, ["inter_token_ms"] = 0, ["error_rate"] = 0.5, ["error_status"] = 503 }).Start();

        var statuses = await StatusesAsync(app, 100);

        // Three attempts each: about one request in eight fails all three (12.5 expected; 35 is far outside chance).
        Assert.All(statuses, s => Assert.Contains(s, new[] { 200, 503 }));
        Assert.InRange(statuses.Count(s => s == 503), 0, 35);
    }

    private static async Task<List<int>> StatusesAsync(GatewayApp app, int count)
    {
        using var client = app.CreateClient();
        var statuses = new List<int>(count);
        for (var i = 0; i < count; i++)
        {
            using var response = await client.PostJsonAsync("/v1/chat/completions", """{"model":"sim-chat","messages":[]}""");
            statuses.Add((int)response.StatusCode);
        }

        return statuses;
    }

    [Theory]
    [InlineData(null)]
    [InlineData("float")]
    [InlineData("base64")]
    public async Task Embeddings_EncodingFormat_UnitVectorsOfRequestedDimensions(string? format)
    {
        await using var app = TestConfig.Simulated().Start();
        using var client = app.CreateClient();
        var request = new JsonObject { ["model"] = "sim-chat", ["input"] = new JsonArray("one", "two"), ["dimensions"] = 16 };
        if (format is not null)
        {
            request["encoding_format"] = format;
        }

        var answer = JsonNode.Parse(await (await client.PostJsonAsync("/v1/embeddings", request.ToJsonString())).Content.ReadAsStringAsync())!;

        var data = answer["data"]!.AsArray();
        Assert.Equal(2, data.Count);
        foreach (var item in data)
        {
            var vector = format == "base64" ? DecodeBase64((string)item!["embedding"]!) : item!["embedding"]!.AsArray().Select(v => (float)v!).ToArray();
            Assert.Equal(16, vector.Length);
            Assert.InRange(Math.Sqrt(vector.Sum(v => (double)v * v)), 0.999, 1.001);
        }

        Assert.True((int)answer["usage"]!["prompt_tokens"]! > 0);
    }

    [Fact]
    public async Task CompletionsAndResponses_NonStream_ReturnOpenAIShapes()
    {
        await using var app = TestConfig.Simulated().Start();
        using var client = app.CreateClient();

        var completion = JsonNode.Parse(await (await client.PostJsonAsync("/v1/completions", """{"model":"sim-chat","prompt":"Say hi","max_tokens":4}""")).Content.ReadAsStringAsync())!;
        var response = JsonNode.Parse(await (await client.PostJsonAsync("/v1/responses", """{"model":"sim-chat","input":"Say hi"}""")).Content.ReadAsStringAsync())!;

        Assert.Equal("text_completion", (string?)completion["object"]);
        Assert.Equal(4, (int)completion["usage"]!["completion_tokens"]!);
        Assert.Equal("response", (string?)response["object"]);
        Assert.Equal("completed", (string?)response["status"]);
        Assert.Equal((int)response["usage"]!["input_tokens"]! + (int)response["usage"]!["output_tokens"]!, (int)response["usage"]!["total_tokens"]!);
    }

    [Fact]
    public async Task ResponsesStream_NamedEvents_EndWithCompleted()
    {
        await using var app = TestConfig.Simulated().Start();
        using var client = app.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/responses") { Content = new StringContent("""{"model":"sim-chat","input":"x","stream":true}""") };

        using var response = await client.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();

        var names = text.Split('\n').Where(l => l.StartsWith("event: ", StringComparison.Ordinal)).Select(l => l[7..]).ToList();
        Assert.Equal("response.created", names[0]);
        Assert.Contains("response.output_text.delta", names);
        Assert.Equal("response.completed", names[^1]);
        Assert.DoesNotContain("[DONE]", text, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("/v1/chat/completions", """{"model":"sim-chat","messages":[],"max_tokens":2.5}""")]
    [InlineData("/v1/chat/completions", """{"model":"sim-chat","messages":["hi"]}""")]
    [InlineData("/v1/chat/completions", """{"model":"sim-chat","messages":[],"stream":true,"stream_options":"x"}""")]
    [InlineData("/v1/embeddings", """{"model":"sim-chat","input":"x","dimensions":1e20}""")]
    [InlineData("/v1/embeddings", """{"model":"sim-chat","input":"x","encoding_format":5}""")]
    [InlineData("/v1/responses", """{"model":"sim-chat","input":"x","instructions":{"a":1}}""")]
    [InlineData("/v1/embeddings", """{"model":"sim-chat","input":{"a":1}}""")]
    public async Task Post_OddFieldTypes_OpenAIShaped400Not500(string path, string body)
    {
        await using var app = TestConfig.Simulated().Start();
        using var client = app.CreateClient();

        using var response = await client.PostJsonAsync(path, body);

        await OpenAIError.AssertAsync(response, 400, "invalid_request_error", null);
    }

    private static async Task<List<string>> ReadEventsAsync(HttpClient client, string body)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        var text = await response.Content.ReadAsStringAsync().WaitAsync(Patience);
        return text.Split("\n\n", StringSplitOptions.RemoveEmptyEntries).Select(e => e.StartsWith("data: ", StringComparison.Ordinal) ? e[6..] : e).ToList();
    }

    private static float[] DecodeBase64(string base64)
    {
        var bytes = Convert.FromBase64String(base64);
        var floats = new float[bytes.Length / 4];
        for (var i = 0; i < floats.Length; i++)
        {
            floats[i] = BinaryPrimitives.ReadSingleLittleEndian(bytes.AsSpan(i * 4));
        }

        return floats;
    }
}
