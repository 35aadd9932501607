using LlmProxy.Configuration;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace LlmProxy.Tests.Configuration;

public sealed class ConfigStoreTests : IDisposable
{
    private const string Valid = """
        {
          "providers": { "a": { "type": "openai-compatible", "base_url": "http://a.example/v1", "api_key": "file:SECRET" } },
          "models": { "m": { "targets": [ { "provider": "a" } ] } },
          "auth": { "mode": "none" }
        }
        """;

    private readonly DirectoryInfo _directory = Directory.CreateTempSubdirectory("llmproxy-store-");
    private readonly ConfigStore _store;

    public ConfigStoreTests()
    {
        File.WriteAllText(SecretPath, "sk-first");
        File.WriteAllText(ConfigPath, Valid.Replace("SECRET", SecretPath, StringComparison.Ordinal));
        _store = new ConfigStore(ConfigPath, SnapshotBuilderTests.Builder(), NullLogger<ConfigStore>.Instance, new FakeTimeProvider());
        _store.LoadInitial();
    }

    private string ConfigPath => Path.Combine(_directory.FullName, "llmproxy.json");

    private string SecretPath => Path.Combine(_directory.FullName, "secret");

    public void Dispose()
    {
        _store.Dispose();
        _directory.Delete(recursive: true);
    }

    [Fact]
    public void Reload_SameFile_IsUnchanged()
    {
        var outcomes = new List<ConfigReloadOutcome>();
        _store.ReloadAttempted += outcomes.Add;

        Assert.False(_store.Reload());

        Assert.Equal(ConfigReloadStatus.Unchanged, Assert.Single(outcomes).Status);
        Assert.Equal(1, _store.Current.Revision);
    }

    [Fact]
    public void Reload_RotatedSecretFile_AppliesNewCredential()
    {
        File.WriteAllText(SecretPath, "sk-rotated");

        Assert.True(_store.Reload());

        Assert.Equal("sk-rotated", _store.Current.Providers["a"].Credential);
        Assert.Equal(2, _store.Current.Revision);
    }

    [Fact]
    public void Reload_BuildThrowsUnexpectedly_RejectedAndLastGoodKept()
    {
        var outcomes = new List<ConfigReloadOutcome>();
        _store.ReloadAttempted += outcomes.Add;

        // This builder knows no simulated adapter: building throws, which a reload must survive.
        File.WriteAllText(ConfigPath, """
            { "providers": { "s": { "type": "simulated" } }, "models": { "m": { "targets": [ { "provider": "s" } ] } }, "auth": { "mode": "none" } }
            """);
        var applied = _store.Reload();

        Assert.False(applied);
        Assert.Equal(ConfigReloadStatus.Rejected, Assert.Single(outcomes).Status);
        Assert.Equal("a", _store.Current.Models["m"].Targets[0].Provider.Name);
        Assert.Equal(1, _store.ReloadFailureCount);
    }

    [Fact]
    public void Reload_AfterDispose_DoesNothing()
    {
        _store.Dispose();
        File.WriteAllText(SecretPath, "sk-rotated");

        Assert.False(_store.Reload());
    }

    [Fact]
    public void ChangeToken_Reload_FiresOnce()
    {
        var token = _store.GetChangeToken();
        var fired = 0;
        using var registration = token.RegisterChangeCallback(_ => fired++, null);
        File.WriteAllText(SecretPath, "sk-rotated");

        _store.Reload();

        Assert.Equal(1, fired);
        Assert.True(token.HasChanged);
        Assert.False(_store.GetChangeToken().HasChanged);
    }

    [Fact]
    public void Reload_PricingFileAddedNextToConfig_PricesApplied()
    {
        Assert.Null(_store.Current.Models["m"].Targets[0].Price);
        File.WriteAllText(Path.Combine(_directory.FullName, "pricing.json"), """{ "models": { "a/m": { "input_per_1m": 3, "output_per_1m": 4 } } }""");

        Assert.True(_store.Reload());

        Assert.Equal(3, _store.Current.Models["m"].Targets[0].Price!.InputPer1M);
    }

    [Fact]
    public void Reload_InvalidPricingFile_RejectedWithPricingPath()
    {
        var outcomes = new List<ConfigReloadOutcome>();
        _store.ReloadAttempted += outcomes.Add;
        File.WriteAllText(Path.Combine(_directory.FullName, "pricing.json"), """{ "models": { "m": { "input_per_1m": "cheap" } } }""");

        Assert.False(_store.Reload());

        Assert.StartsWith("pricing.models.m.input_per_1m:", Assert.Single(Assert.Single(outcomes).Errors), StringComparison.Ordinal);
    }
}
