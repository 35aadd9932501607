using System.Collections.Frozen;
using LlmProxy.Auth;
using Microsoft.AspNetCore.Http;

namespace LlmProxy.Tests.Auth;

public sealed class KeyTableTests
{
    private static VirtualKey Key(string id, string secret)
        => new(id, id, Convert.FromHexString(KeyTable.HashForConfig(secret)[7..]), allowsAllModels: false, FrozenSet<string>.Empty);

    [Fact]
    public void Find_KnownKey_ReturnsItsPrincipal()
    {
        var table = new KeyTable([Key("a", "sk-a"), Key("b", "sk-b")]);

        Assert.Equal("a", table.Find("sk-a")?.Id);
        Assert.Equal("b", table.Find("sk-b")?.Id);
    }

    [Theory]
    [InlineData("")]
    [InlineData("sk-c")]
    [InlineData("sk-a ")]
    [InlineData("SK-A")]
    public void Find_UnknownKey_ReturnsNull(string presented)
    {
        var table = new KeyTable([Key("a", "sk-a")]);

        Assert.Null(table.Find(presented));
    }

    [Fact]
    public void Find_HugeKey_ReturnsNull()
    {
        var table = new KeyTable([Key("a", "sk-a")]);

        Assert.Null(table.Find(new string('k', 100_000)));
    }

    [Fact]
    public void HashForConfig_Key_IsSha256HexWithPrefix()
    {
        Assert.Equal("sha256:c6de1acacd799db7e8a088fc33e5680ac0aea0020af092b2fee8c0ac50b264cf", KeyTable.HashForConfig("sk-llmproxy-demo"));
    }

    [Theory]
    [InlineData("Bearer sk-1", null, "sk-1")]
    [InlineData("bearer   sk-1  ", null, "sk-1")]
    [InlineData(null, "sk-2", "sk-2")]
    [InlineData("Bearer sk-1", "sk-2", "sk-1")]
    [InlineData("Basic abc", null, "")]
    [InlineData("Bearer", null, "")]
    [InlineData(null, null, "")]
    public void FindPresentedKey_Headers_PrefersBearerThenApiKey(string? authorization, string? apiKey, string expected)
    {
        IHeaderDictionary headers = new HeaderDictionary();
        if (authorization is not null)
        {
            headers.Authorization = authorization;
        }

        if (apiKey is not null)
        {
            headers["api-key"] = apiKey;
        }

        Assert.Equal(expected, AuthMiddleware.FindPresentedKey(headers).ToString());
    }
}
