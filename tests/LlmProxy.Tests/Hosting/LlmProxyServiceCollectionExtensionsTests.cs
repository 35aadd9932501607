using LlmProxy.Hosting;
using Microsoft.Extensions.Configuration;

namespace LlmProxy.Tests.Hosting;

public sealed class LlmProxyServiceCollectionExtensionsTests
{
    [Theory]
    [InlineData(null, null, true)]
    [InlineData("urls", "http://0.0.0.0:9000", false)]
    [InlineData("http_ports", "8080", false)]
    [InlineData("https_ports", "8443", false)]
    [InlineData("Kestrel:Endpoints:Http:Url", "http://*:7000", false)]
    public void NeedsDefaultUrl_HostSettings_DefaultOnlyWhenNothingSet(string? key, string? value, bool expected)
    {
        var settings = new Dictionary<string, string?>();
        if (key is not null)
        {
            settings[key] = value;
        }

        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();

        Assert.Equal(expected, LlmProxyServiceCollectionExtensions.NeedsDefaultUrl(configuration));
        Assert.Equal("http://localhost:8080", LlmProxyServiceCollectionExtensions.DefaultUrl);
    }
}
