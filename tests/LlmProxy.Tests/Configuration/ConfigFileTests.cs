using LlmProxy.Configuration;

namespace LlmProxy.Tests.Configuration;

[Collection(nameof(EnvironmentCollection))]
public sealed class ConfigFileTests
{
    [Fact]
    public void Resolve_Setting_WinsOverEnvironment()
    {
        using var environment = new EnvironmentVariable(ConfigFile.PathVariable, "/from/env.json");

        Assert.Equal("/from/setting.json", ConfigFile.Resolve("/from/setting.json"));
    }

    [Fact]
    public void Resolve_EnvironmentVariable_OverridesDefault()
    {
        using var environment = new EnvironmentVariable(ConfigFile.PathVariable, "/etc/llmproxy/custom.json");

        Assert.Equal("/etc/llmproxy/custom.json", ConfigFile.Resolve(null));
    }

    [Fact]
    public void Resolve_NothingSet_FindsRepositoryConfigAboveWorkingDirectory()
    {
        using var environment = new EnvironmentVariable(ConfigFile.PathVariable, null);

        var path = ConfigFile.Resolve(null);

        Assert.EndsWith(Path.Combine("config", "llmproxy.json"), path, StringComparison.Ordinal);
        Assert.True(File.Exists(path));
    }

    [Fact]
    public void SecretReference_FileAndEnv_ResolveOrExplainWhyNot()
    {
        using var environment = new EnvironmentVariable("LLMPROXY_UNIT_SECRET", " sk-env ");

        Assert.Equal("sk-env", SecretReference.TryResolve("env:LLMPROXY_UNIT_SECRET", out _));
        Assert.Null(SecretReference.TryResolve("env:LLMPROXY_UNIT_MISSING", out var envReason));
        Assert.Equal("environment variable LLMPROXY_UNIT_MISSING is not set", envReason);
        Assert.Null(SecretReference.TryResolve("file:/nonexistent/llmproxy-secret", out var fileReason));
        Assert.Equal("file /nonexistent/llmproxy-secret does not exist", fileReason);
        Assert.False(SecretReference.IsReference("sk-literal"));
        Assert.False(SecretReference.IsReference("env:"));
    }

    private sealed class EnvironmentVariable : IDisposable
    {
        private readonly string _name;
        private readonly string? _previous;

        public EnvironmentVariable(string name, string? value)
        {
            _name = name;
            _previous = Environment.GetEnvironmentVariable(name);
            Environment.SetEnvironmentVariable(name, value);
        }

        public void Dispose() => Environment.SetEnvironmentVariable(_name, _previous);
    }
}

[CollectionDefinition(nameof(EnvironmentCollection), DisableParallelization = true)]
public sealed class EnvironmentCollection;
