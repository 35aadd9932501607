using LlmProxy.Hosting;
using LlmProxy.RateLimiting;
using LlmProxy.StructuredOutput;
using LlmProxy.Usage;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

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

    private const string RegexTimeoutSetting = "REGEX_DEFAULT_MATCH_TIMEOUT";

    [Fact]
    public void AddLlmProxy_NoRegexTimeoutSet_SetsTheDefaultMatchTimeout()
    {
        AppContext.SetData(RegexTimeoutSetting, null);

        using var app = Build();

        Assert.Equal(TimeSpan.FromMilliseconds(250), AppContext.GetData(RegexTimeoutSetting));
        Assert.Equal(LlmProxyServiceCollectionExtensions.DefaultRegexMatchTimeout, AppContext.GetData(RegexTimeoutSetting));
    }

    [Fact]
    public void AddLlmProxy_HostSetItsOwnRegexTimeout_Kept()
    {
        var own = TimeSpan.FromSeconds(1);
        AppContext.SetData(RegexTimeoutSetting, own);
        try
        {
            using var app = Build();

            Assert.Equal(own, AppContext.GetData(RegexTimeoutSetting));
        }
        finally
        {
            AppContext.SetData(RegexTimeoutSetting, LlmProxyServiceCollectionExtensions.DefaultRegexMatchTimeout);
        }
    }

    [Fact]
    public void AddLlmProxy_Caches_OneSingletonPerHost()
    {
        using var first = Build();
        using var second = Build();

        Assert.Same(first.Services.GetRequiredService<SchemaCache>(), first.Services.GetRequiredService<SchemaCache>());
        Assert.Same(first.Services.GetRequiredService<TokenEstimator>(), first.Services.GetRequiredService<TokenEstimator>());
        Assert.Same(first.Services.GetRequiredService<ModelNameTable>(), first.Services.GetRequiredService<ModelNameTable>());
        Assert.NotSame(first.Services.GetRequiredService<SchemaCache>(), second.Services.GetRequiredService<SchemaCache>());
        Assert.NotSame(first.Services.GetRequiredService<TokenEstimator>(), second.Services.GetRequiredService<TokenEstimator>());
        Assert.NotSame(first.Services.GetRequiredService<ModelNameTable>(), second.Services.GetRequiredService<ModelNameTable>());
    }

    private static WebApplication Build()
    {
        var builder = WebApplication.CreateBuilder();
        builder.AddLlmProxy();
        return builder.Build();
    }
}
