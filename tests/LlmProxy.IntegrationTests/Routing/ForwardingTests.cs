using System.Text.Json.Nodes;
using LlmProxy.IntegrationTests.Infrastructure;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;
using WireMock.Server;

namespace LlmProxy.IntegrationTests.Routing;

public sealed class ForwardingTests : IDisposable
{
    private const string UpstreamBody = """{"id":"chatcmpl-1","object":"chat.completion","created":1,"model":"upstream-model","choices":[],"usage":{"prompt_tokens":3,"completion_tokens":0,"total_tokens":3}}""";
    private readonly WireMockServer _upstream = WireMockServer.Start();

    public void Dispose() => _upstream.Stop();

    [Theory]
    [InlineData("/v1/chat/completions", "/v1/chat/completions")]
    [InlineData("/v1/completions", "/v1/completions")]
    [InlineData("/v1/embeddings", "/v1/embeddings")]
    [InlineData("/v1/responses", "/v1/responses")]
    public async Task Post_EachEndpoint_ForwardsUpstreamModelAndReturnsResponseUnchanged(string path, string upstreamPath)
    {
        _upstream.Given(Request.Create().WithPath(upstreamPath).UsingPost())
            .RespondWith(Response.Create().WithStatusCode(200).WithHeader("Content-Type", "application/json")
                .WithHeader("x-request-id", "req_123").WithHeader("openai-processing-ms", "42").WithBody(UpstreamBody));
        await using var app = TestConfig.SingleModel(_upstream.Url! + "/v1").Start();
        using var client = app.CreateClient();
        const string sent = """{"temperature":0.5,"model":"test-model","messages":[{"role":"user","content":"h\u00e9llo \"model\""}],"extra":{"model":"keep"}}""";

        using var response = await client.PostJsonAsync(path, sent);

        Assert.Equal(200, (int)response.StatusCode);
        Assert.Equal(UpstreamBody, await response.Content.ReadAsStringAsync());
        Assert.Equal("req_123", response.Headers.GetValues("x-upstream-request-id").Single());
        Assert.StartsWith("req_", response.Headers.GetValues("x-request-id").Single(), StringComparison.Ordinal);
        Assert.NotEqual("req_123", response.Headers.GetValues("x-request-id").Single());
        Assert.Equal("42", response.Headers.GetValues("openai-processing-ms").Single());
        var received = Assert.Single(_upstream.LogEntries).RequestMessage!;
        Assert.Equal(upstreamPath, received.Path);
        Assert.Equal(sent.Replace("\"model\":\"test-model\"", "\"model\":\"upstream-model\"", StringComparison.Ordinal), received.Body);
    }

    [Fact]
    public async Task Post_AliasOfModel_RoutesToTheModelsTarget()
    {
        _upstream.Given(Request.Create().WithPath("/v1/chat/completions").UsingPost())
            .RespondWith(Response.Create().WithStatusCode(200).WithBody(UpstreamBody));
        await using var app = TestConfig.SingleModel(_upstream.Url! + "/v1").Start();
        using var client = app.CreateClient();

        using var response = await client.PostJsonAsync("/v1/chat/completions", """{"model":"test-alias","messages":[]}""");

        Assert.Equal(200, (int)response.StatusCode);
        Assert.Equal("""{"model":"upstream-model","messages":[]}""", Assert.Single(_upstream.LogEntries).RequestMessage!.Body);
    }

    [Fact]
    public async Task Post_UpstreamRateLimited_StatusBodyAndRetryHeadersPassThrough()
    {
        const string error = """{"error":{"message":"Rate limit reached","type":"requests","param":null,"code":"rate_limit_exceeded"}}""";
        _upstream.Given(Request.Create().WithPath("/v1/chat/completions").UsingPost())
            .RespondWith(Response.Create().WithStatusCode(429).WithHeader("Content-Type", "application/json")
                .WithHeader("retry-after", "7").WithHeader("x-ratelimit-remaining-requests", "0").WithBody(error));
        await using var app = TestConfig.SingleModel(_upstream.Url! + "/v1").Start();
        using var client = app.CreateClient();

        using var response = await client.PostJsonAsync("/v1/chat/completions", """{"model":"test-model","messages":[]}""");

        Assert.Equal(429, (int)response.StatusCode);
        Assert.Equal(error, await response.Content.ReadAsStringAsync());
        Assert.Equal("7", response.Headers.GetValues("retry-after").Single());
        Assert.Equal("0", response.Headers.GetValues("x-ratelimit-remaining-requests").Single());
    }

    [Fact]
    public async Task Post_UpstreamSendsAccountHeaders_AccountHeadersDropped()
    {
        _upstream.Given(Request.Create().WithPath("/v1/chat/completions").UsingPost())
            .RespondWith(Response.Create().WithStatusCode(200).WithHeader("openai-organization", "org-secret")
                .WithHeader("Set-Cookie", "__cf_bm=abc").WithHeader("x-request-id", "req_1").WithBody(UpstreamBody));
        await using var app = TestConfig.SingleModel(_upstream.Url! + "/v1").Start();
        using var client = app.CreateClient();

        using var response = await client.PostJsonAsync("/v1/chat/completions", """{"model":"test-model"}""");

        Assert.Equal(200, (int)response.StatusCode);
        Assert.False(response.Headers.Contains("openai-organization"));
        Assert.False(response.Headers.Contains("Set-Cookie"));
        Assert.True(response.Headers.Contains("x-request-id"));
    }

    [Fact]
    public async Task Post_TwoTargetsWeightedThreeToOne_TrafficSplitsByWeight()
    {
        using var second = WireMockServer.Start();
        foreach (var server in new[] { _upstream, second })
        {
            server.Given(Request.Create().WithPath("/v1/chat/completions").UsingPost())
                .RespondWith(Response.Create().WithStatusCode(200).WithBody(UpstreamBody));
        }

        var config = TestConfig.SingleModel(_upstream.Url! + "/v1");
        config["providers"]!["second"] = new JsonObject { ["type"] = "openai-compatible", ["base_url"] = second.Url! + "/v1" };
        config["models"]!["test-model"]!["targets"] = new JsonArray(
            new JsonObject { ["provider"] = "up", ["model"] = "a", ["weight"] = 3 },
            new JsonObject { ["provider"] = "second", ["model"] = "b", ["weight"] = 1 });
        await using var app = config.Start();
        using var client = app.CreateClient();

        const int requests = 400;
        for (var i = 0; i < requests; i++)
        {
            using var response = await client.PostJsonAsync("/v1/chat/completions", """{"model":"test-model"}""");
            Assert.Equal(200, (int)response.StatusCode);
        }

        // Expected share 0.75, standard deviation ~0.022: the bounds are more than 5 deviations away.
        var share = _upstream.LogEntries.Count() / (double)requests;
        Assert.InRange(share, 0.63, 0.87);
        Assert.Equal(requests, _upstream.LogEntries.Count() + second.LogEntries.Count());
        Assert.All(_upstream.LogEntries, e => Assert.Contains("\"a\"", e.RequestMessage!.Body, StringComparison.Ordinal));
        Assert.All(second.LogEntries, e => Assert.Contains("\"b\"", e.RequestMessage!.Body, StringComparison.Ordinal));
    }
}
