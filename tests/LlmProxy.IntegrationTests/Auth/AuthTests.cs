using System.Text.Json.Nodes;
using LlmProxy.IntegrationTests.Infrastructure;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;
using WireMock.Server;

namespace LlmProxy.IntegrationTests.Auth;

public sealed class AuthTests : IDisposable
{
    private const string Chat = """{"model":"test-model","messages":[]}""";
    private readonly WireMockServer _upstream = WireMockServer.Start();

    public AuthTests()
        => _upstream.Given(Request.Create().UsingPost()).RespondWith(Response.Create().WithStatusCode(200).WithBody("""{"ok":true}"""));

    public void Dispose() => _upstream.Stop();

    [Fact]
    public async Task Post_NoKey_Returns401()
    {
        await using var app = TestConfig.SingleModel(_upstream.Url! + "/v1").Start();
        using var client = app.CreateClient(key: null);

        using var response = await client.PostJsonAsync("/v1/chat/completions", Chat);

        await OpenAIError.AssertAsync(response, 401, "invalid_request_error", null);
        Assert.Empty(_upstream.LogEntries);
    }

    [Fact]
    public async Task Post_UnknownKey_Returns401InvalidApiKeyWithoutEchoingIt()
    {
        await using var app = TestConfig.SingleModel(_upstream.Url! + "/v1").Start();
        using var client = app.CreateClient(key: "sk-unknown-key-abcdef");

        using var response = await client.PostJsonAsync("/v1/chat/completions", Chat);

        var error = await OpenAIError.AssertAsync(response, 401, "invalid_request_error", "invalid_api_key");
        Assert.DoesNotContain("sk-unknown", error.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Empty(_upstream.LogEntries);
    }

    [Fact]
    public async Task Post_KeyInApiKeyHeader_IsAccepted()
    {
        await using var app = TestConfig.SingleModel(_upstream.Url! + "/v1").Start();
        using var client = app.CreateClient(key: null);
        client.DefaultRequestHeaders.Add("api-key", TestKeys.Alpha);

        using var response = await client.PostJsonAsync("/v1/chat/completions", Chat);

        Assert.Equal(200, (int)response.StatusCode);
        Assert.False(Assert.Single(_upstream.LogEntries).RequestMessage!.Headers!.ContainsKey("api-key"));
    }

    [Fact]
    public async Task Post_ModelNotAllowedForKey_Returns404ModelNotFound()
    {
        await using var app = TestConfig.SingleModel(_upstream.Url! + "/v1").Start();
        using var client = app.CreateClient(TestKeys.Beta);

        using var response = await client.PostJsonAsync("/v1/chat/completions", Chat);

        await OpenAIError.AssertAsync(response, 404, "invalid_request_error", "model_not_found");
        Assert.Empty(_upstream.LogEntries);
    }

    [Fact]
    public async Task Post_ClientCredentials_NeverForwardedAndProviderBearerInjected()
    {
        await using var app = TestConfig.SingleModel(_upstream.Url! + "/v1").Start();
        using var client = app.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions") { Content = new StringContent(Chat) };
        request.Headers.Add("OpenAI-Organization", "org-client");
        request.Headers.Add("OpenAI-Project", "proj-client");
        request.Headers.Add("x-api-key", TestKeys.Alpha);
        request.Headers.AcceptEncoding.ParseAdd("gzip, br");

        using var response = await client.SendAsync(request);

        Assert.Equal(200, (int)response.StatusCode);
        var headers = Assert.Single(_upstream.LogEntries).RequestMessage!.Headers!;
        Assert.Equal("Bearer " + TestKeys.ProviderSecret, Assert.Single(headers["Authorization"]));
        Assert.False(headers.ContainsKey("OpenAI-Organization"));
        Assert.False(headers.ContainsKey("OpenAI-Project"));
        Assert.False(headers.ContainsKey("x-api-key"));
        Assert.False(headers.ContainsKey("X-Forwarded-For"));
        Assert.False(headers.ContainsKey("Accept-Encoding"));
        Assert.False(headers.ContainsKey("X-Forwarded-Host"));
        Assert.DoesNotContain(headers.Values.SelectMany(v => v), v => v.Contains(TestKeys.Alpha, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Post_CompatibleProviderWithoutKey_SendsNoAuthorization()
    {
        await using var app = TestConfig.SingleModel(_upstream.Url! + "/v1", withKey: false).Start();
        using var client = app.CreateClient();

        using var response = await client.PostJsonAsync("/v1/chat/completions", Chat);

        Assert.Equal(200, (int)response.StatusCode);
        Assert.False(Assert.Single(_upstream.LogEntries).RequestMessage!.Headers!.ContainsKey("Authorization"));
    }

    [Fact]
    public async Task Post_OpenAIProvider_SendsBearerToV1Path()
    {
        await using var app = TestConfig.SingleModel(_upstream.Url! + "/v1", type: "openai").Start();
        using var client = app.CreateClient();

        using var response = await client.PostJsonAsync("/v1/embeddings", """{"model":"test-model","input":"x"}""");

        Assert.Equal(200, (int)response.StatusCode);
        var received = Assert.Single(_upstream.LogEntries).RequestMessage!;
        Assert.Equal("/v1/embeddings", received.Path);
        Assert.Equal("Bearer " + TestKeys.ProviderSecret, Assert.Single(received.Headers!["Authorization"]));
    }

    [Theory]
    [InlineData("/v1/chat/completions", "/openai/deployments/upstream-model/chat/completions")]
    [InlineData("/v1/completions", "/openai/deployments/upstream-model/completions")]
    [InlineData("/v1/embeddings", "/openai/deployments/upstream-model/embeddings")]
    [InlineData("/v1/responses", "/openai/responses")]
    public async Task Post_AzureClassic_UsesDeploymentPathApiVersionAndApiKey(string path, string upstreamPath)
    {
        await using var app = TestConfig.SingleModel(_upstream.Url!, type: "azure-openai", apiVersion: "2024-10-21").Start();
        using var client = app.CreateClient();

        using var response = await client.PostJsonAsync(path, Chat);

        Assert.Equal(200, (int)response.StatusCode);
        var received = Assert.Single(_upstream.LogEntries).RequestMessage!;
        Assert.Equal(upstreamPath, received.Path);
        Assert.Equal("2024-10-21", Assert.Single(received.Query!["api-version"]));
        Assert.Equal(TestKeys.ProviderSecret, Assert.Single(received.Headers!["api-key"]));
        Assert.False(received.Headers.ContainsKey("Authorization"));
    }

    [Fact]
    public async Task Post_AzureV1_UsesOpenAIV1PathWithoutApiVersion()
    {
        await using var app = TestConfig.SingleModel(_upstream.Url!, type: "azure-openai", apiVersion: "v1").Start();
        using var client = app.CreateClient();

        using var response = await client.PostJsonAsync("/v1/chat/completions", Chat);

        Assert.Equal(200, (int)response.StatusCode);
        var received = Assert.Single(_upstream.LogEntries).RequestMessage!;
        Assert.Equal("/openai/v1/chat/completions", received.Path);
        Assert.False(received.Query?.ContainsKey("api-version") ?? false);
        Assert.Equal(TestKeys.ProviderSecret, Assert.Single(received.Headers!["api-key"]));
        Assert.Contains("\"upstream-model\"", received.Body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Post_AuthModeNone_AcceptsRequestsWithoutKey()
    {
        var config = TestConfig.SingleModel(_upstream.Url! + "/v1");
        config["auth"] = new JsonObject { ["mode"] = "none" };
        config.Remove("keys");
        await using var app = config.Start();
        using var client = app.CreateClient(key: null);

        using var response = await client.PostJsonAsync("/v1/chat/completions", Chat);

        Assert.Equal(200, (int)response.StatusCode);
    }

    [Fact]
    public async Task GetModels_PerKey_ListsOnlyAllowedModels()
    {
        await using var app = TestConfig.SingleModel(_upstream.Url! + "/v1").Start();
        using var alpha = app.CreateClient();
        using var beta = app.CreateClient(TestKeys.Beta);

        var alphaList = JsonNode.Parse(await alpha.GetStringAsync("/v1/models"))!;
        var betaList = JsonNode.Parse(await beta.GetStringAsync("/v1/models"))!;

        Assert.Equal("list", (string?)alphaList["object"]);
        Assert.Equal(["other-model", "test-model"], alphaList["data"]!.AsArray().Select(m => (string?)m!["id"]));
        Assert.Equal(["other-model"], betaList["data"]!.AsArray().Select(m => (string?)m!["id"]));
        var model = betaList["data"]![0]!;
        Assert.Equal("model", (string?)model["object"]);
        Assert.Equal("llmproxy", (string?)model["owned_by"]);
        Assert.True((long)model["created"]! > 0);
    }

    [Fact]
    public async Task GetModel_AllowedAliasAndForbiddenModel_ReturnsObjectOr404()
    {
        await using var app = TestConfig.SingleModel(_upstream.Url! + "/v1").Start();
        using var beta = app.CreateClient(TestKeys.Beta);
        using var alpha = app.CreateClient();

        var alias = JsonNode.Parse(await alpha.GetStringAsync("/v1/models/test-alias"))!;
        using var forbidden = await beta.GetAsync("/v1/models/test-model");
        using var unknown = await alpha.GetAsync("/v1/models/nope");
        using var noKey = await app.CreateClient(key: null).GetAsync("/v1/models");

        Assert.Equal("test-alias", (string?)alias["id"]);
        Assert.Equal("model", (string?)alias["object"]);
        await OpenAIError.AssertAsync(forbidden, 404, "invalid_request_error", "model_not_found");
        await OpenAIError.AssertAsync(unknown, 404, "invalid_request_error", "model_not_found");
        await OpenAIError.AssertAsync(noKey, 401, "invalid_request_error", null);
    }
}
