using System.Text.Json;
using System.Text.Json.Serialization;

namespace LlmProxy.Bench;

/// <summary><c>--json PATH</c>: the results as indented snake_case JSON (NaN and infinities written as names).</summary>
internal static class JsonOutput
{
    private static readonly JsonSerializerOptions Options = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    /// <summary>Writes <paramref name="results"/> to <paramref name="path"/> (creating its folder) and says so.</summary>
    public static async Task WriteAsync<T>(string path, T results, CancellationToken cancellationToken)
    {
        var directory = Path.GetDirectoryName(Path.GetFullPath(path));
        if (directory is not null)
        {
            Directory.CreateDirectory(directory);
        }

        await File.WriteAllTextAsync(path, JsonSerializer.Serialize(results, Options) + "\n", cancellationToken);
        Console.WriteLine();
        Console.WriteLine($"results written to {path}");
    }
}
