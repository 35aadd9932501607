using System.Text.Json.Nodes;
using LlmProxy.IntegrationTests.Infrastructure;

namespace LlmProxy.IntegrationTests.Hosting;

public sealed class HostingTests
{
    [Theory]
    [InlineData("/health/live")]
    [InlineData("/health/ready")]
    public async Task Health_ValidConfigLoaded_Returns200WithoutKey(string path)
    {
        await using var app = TestConfig.Simulated().Start();
        using var client = app.CreateClient(key: null);

        using var response = await client.GetAsync(path);

        Assert.Equal(200, (int)response.StatusCode);
        Assert.Equal("Healthy", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task OpenApi_Document_DescribesGatewayEndpoints()
    {
        await using var app = TestConfig.Simulated().Start();
        using var client = app.CreateClient(key: null);

        var document = JsonNode.Parse(await client.GetStringAsync("/openapi/v1.json"))!;

        var paths = document["paths"]!.AsObject().Select(p => p.Key).ToList();
        Assert.Contains("/v1/chat/completions", paths);
        Assert.Contains("/v1/completions", paths);
        Assert.Contains("/v1/embeddings", paths);
        Assert.Contains("/v1/responses", paths);
        Assert.Contains("/v1/models", paths);
        Assert.Contains("/v1/models/{id}", paths);
        Assert.NotNull(document["paths"]!["/v1/chat/completions"]!["post"]);
    }

    [Fact]
    public async Task ApiReference_Page_IsServedAsHtml()
    {
        await using var app = TestConfig.Simulated().Start();
        using var client = app.CreateClient(key: null);

        using var response = await client.GetAsync("/docs/");

        Assert.Equal(200, (int)response.StatusCode);
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("openapi/v1.json", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        using var script = await client.GetAsync("/docs/scalar.js");
        Assert.Equal(200, (int)script.StatusCode);
    }

    [Fact]
    public async Task DefaultConfig_Start_ServesDemoModelsWithDemoKey()
    {
        await using var app = GatewayApp.StartWithPath(RepoPaths.DefaultConfig);
        using var client = app.CreateClient("sk-llmproxy-demo");

        using var response = await client.PostJsonAsync("/v1/chat/completions", """{"model":"demo-fast","messages":[{"role":"user","content":"hi"}]}""");

        Assert.Equal(200, (int)response.StatusCode);
        Assert.Equal("demo-fast", (string?)JsonNode.Parse(await response.Content.ReadAsStringAsync())!["model"]);
    }
}
