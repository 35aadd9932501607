namespace LlmProxy.IntegrationTests.Infrastructure;

/// <summary>Files of this repository (found by walking up to LlmProxy.sln).</summary>
public static class RepoPaths
{
    /// <summary>The repository root.</summary>
    public static string Root { get; } = FindRoot();

    /// <summary>The default route config that ships with the gateway.</summary>
    public static string DefaultConfig => Path.Combine(Root, "config", "llmproxy.json");

    private static string FindRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "LlmProxy.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException("LlmProxy.sln not found above " + AppContext.BaseDirectory);
    }
}
