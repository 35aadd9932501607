using System.Text.RegularExpressions;

namespace LlmProxy.Tests.Hosting;

/// <summary>
/// The design rule "one type per file": every C# file under <c>src/</c> and <c>bench/</c> declares at most one top-level
/// type, and the file is named after it (<c>Type.cs</c>, or <c>Type.Part.cs</c> for a part of a partial type; generic
/// parameters are not part of the name). Files use file-scoped namespaces, so a top-level type starts at column 0 and a
/// nested type is indented.
/// </summary>
public sealed partial class CodeStyleTests
{
    private static readonly string[] ScannedFolders = ["src", "bench"];

    private static readonly Lazy<string> RepositoryRoot = new(FindRepositoryRoot);

    [Fact]
    public void SourceFiles_TopLevelTypes_AtMostOnePerFile()
    {
        var offenders = new List<string>();
        foreach (var (path, types) in SourceFiles())
        {
            if (types.Count > 1)
            {
                offenders.Add($"{path}: {types.Count} top-level types ({string.Join(", ", types)}); give each its own file");
            }
        }

        Assert.True(offenders.Count == 0, Describe(offenders));
    }

    [Fact]
    public void SourceFiles_TopLevelType_NamesTheFile()
    {
        var offenders = new List<string>();
        foreach (var (path, types) in SourceFiles())
        {
            if (types.Count == 1 && !NamesFile(Path.GetFileName(path), types[0]))
            {
                offenders.Add($"{path}: declares {types[0]}; name the file {types[0]}.cs");
            }
        }

        Assert.True(offenders.Count == 0, Describe(offenders));
    }

    [Fact]
    public void SourceFiles_Scan_FindsTheSources()
    {
        var files = SourceFiles();

        Assert.Contains(files, static f => f.Path == "src/LlmProxy/Program.cs" && f.Types is ["Program"]);
        Assert.True(files.Count > 100, $"only {files.Count} files found under {RepositoryRoot.Value}");
    }

    [Theory]
    [InlineData("public sealed record GatewayConfig", "GatewayConfig")]
    [InlineData("internal sealed class ConfigEnumConverter<TEnum> : JsonConverter<TEnum>", "ConfigEnumConverter")]
    [InlineData("internal sealed class GatewayModeSwitch(string configPath, HttpClient client)", "GatewayModeSwitch")]
    [InlineData("public readonly record struct Usage(long Input, long Output);", "Usage")]
    [InlineData("internal static partial class Log", "Log")]
    [InlineData("public enum AuthMode", "AuthMode")]
    [InlineData("file interface IProbe", "IProbe")]
    [InlineData("public delegate Task Operation(HttpContext context);", "Operation")]
    [InlineData("internal sealed partial class SummaryJson : JsonSerializerContext;", "SummaryJson")]
    [InlineData("    private sealed class Nested", null)]
    [InlineData("/// <summary>A class of its own.</summary>", null)]
    [InlineData("var record = new Record();", null)]
    public void TopLevelType_SampleLines_TheScanSeesTypesOnly(string line, string? expected)
    {
        var match = TopLevelType().Match(line);

        Assert.Equal(expected, match.Success ? match.Groups["name"].Value : null);
    }

    [Theory]
    [InlineData("GatewayConfig.cs", "GatewayConfig", true)]
    [InlineData("ConfigValidator.Limits.cs", "ConfigValidator", true)]
    [InlineData("ConfigEnumConverter.cs", "ConfigEnumConverter", true)]
    [InlineData("Results.cs", "BenchResults", false)]
    [InlineData("GatewayConfigs.cs", "GatewayConfig", false)]
    [InlineData("Gateway.cs", "GatewayConfig", false)]
    public void NamesFile_SampleFileNames_TypeOrTypeDotPart(string fileName, string type, bool expected)
    {
        Assert.Equal(expected, NamesFile(fileName, type));
    }

    // The whole list, one file a line (Assert.Empty would cut it short).
    private static string Describe(List<string> offenders) => string.Join(Environment.NewLine, offenders.Prepend($"{offenders.Count} file(s) break the rule:"));

    private static bool NamesFile(string fileName, string type)
    {
        var stem = Path.GetFileNameWithoutExtension(fileName);
        return stem == type || stem.StartsWith(type + ".", StringComparison.Ordinal);
    }

    /// <summary>Every C# file of the scanned folders (build output left out), with its top-level types in order.</summary>
    private static List<(string Path, List<string> Types)> SourceFiles()
    {
        var root = RepositoryRoot.Value;
        var files = new List<(string, List<string>)>();
        foreach (var folder in ScannedFolders)
        {
            foreach (var file in Directory.EnumerateFiles(Path.Combine(root, folder), "*.cs", SearchOption.AllDirectories))
            {
                var relative = Path.GetRelativePath(root, file).Replace('\\', '/');
                if (relative.Contains("/bin/", StringComparison.Ordinal) || relative.Contains("/obj/", StringComparison.Ordinal))
                {
                    continue;
                }

                var types = new List<string>();
                foreach (var line in File.ReadLines(file))
                {
                    if (TopLevelType().Match(line) is { Success: true } match)
                    {
                        types.Add(match.Groups["name"].Value);
                    }
                }

                files.Add((relative, types));
            }
        }

        return files;
    }

    private static string FindRepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "LlmProxy.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException($"LlmProxy.sln not found above {AppContext.BaseDirectory}");
    }

    // A type declaration at column 0: modifiers, the kind, then the name (a delegate's name follows its return type).
    [GeneratedRegex(@"^(?:(?:public|internal|file|private|protected|sealed|static|abstract|partial|readonly|ref|unsafe|new)\s+)*(?:record\s+struct|record\s+class|class|struct|interface|enum|record|delegate\s+[^(=;]+?)\s+(?<name>@?[A-Za-z_]\w*)\s*(?:[<(:;{]|where\b|$)")]
    private static partial Regex TopLevelType();
}
