using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace LlmProxy.Configuration;

/// <summary>Reads the route config file (JSON, snake_case, comments allowed) and finds it on disk.</summary>
public static class ConfigFile
{
    /// <summary>Environment variable that overrides the config path.</summary>
    public const string PathVariable = "LLMPROXY_CONFIG";

    /// <summary>Configuration key that overrides the config path (also <c>LlmProxy__ConfigPath</c>).</summary>
    public const string PathSetting = "LlmProxy:ConfigPath";

    /// <summary>The default location, relative to the working directory or the binary.</summary>
    public const string DefaultRelativePath = "config/llmproxy.json";

    private static readonly JsonSerializerOptions Options = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        ReadCommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = true,
        RespectNullableAnnotations = true,
    };

    /// <summary>
    /// Picks the config path: the setting, then <see cref="PathVariable"/>, then <c>config/llmproxy.json</c> in the working
    /// directory or the nearest parent that has one, then the copy next to the binary.
    /// </summary>
    public static string Resolve(string? configured)
    {
        if (!string.IsNullOrWhiteSpace(configured))
        {
            return Path.GetFullPath(configured);
        }

        var fromEnv = Environment.GetEnvironmentVariable(PathVariable);
        if (!string.IsNullOrWhiteSpace(fromEnv))
        {
            return Path.GetFullPath(fromEnv);
        }

        // `dotnet run --project src/LlmProxy` starts in the project folder: look upwards for the repository's config.
        for (var directory = new DirectoryInfo(Directory.GetCurrentDirectory()); directory is not null; directory = directory.Parent)
        {
            var candidate = Path.Combine(directory.FullName, DefaultRelativePath);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        return Path.Combine(AppContext.BaseDirectory, DefaultRelativePath);
    }

    /// <summary>Parses config text; on failure returns null and the error with its JSON path.</summary>
    public static GatewayConfig? Parse(string json, out string? error) => Parse<GatewayConfig>(json, "$", out error);

    /// <summary>Parses a pricing table; errors are prefixed with <c>pricing</c>.</summary>
    public static PricingConfig? ParsePricing(string json, out string? error) => Parse<PricingConfig>(json, "pricing", out error);

    private static T? Parse<T>(string json, string root, out string? error)
        where T : class
    {
        error = null;
        try
        {
            var config = JsonSerializer.Deserialize<T>(json, Options);
            if (config is null)
            {
                error = $"{root}: must be a JSON object";
            }

            return config;
        }
        catch (ConfigChoiceException ex)
        {
            // Reported as the validator reports a bad value: "auth.mode: must be 'keys' or 'none', not 'open'".
            error = $"{ConfigPath(root, ex.Path)}: {ex.Message}";
            return null;
        }
        catch (JsonException ex)
        {
            // The message names the path and position; it never contains values from a secret store.
            var path = ex.Path is null ? root : root + ex.Path[1..];
            error = $"{path}: {FirstLine(ex.Message)}";
            return null;
        }
    }

    /// <summary>Reads and parses the file.</summary>
    public static GatewayConfig? Read(string path, out string? error)
    {
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (IOException ex)
        {
            error = $"{path}: {ex.Message}";
            return null;
        }
        catch (UnauthorizedAccessException ex)
        {
            error = $"{path}: {ex.Message}";
            return null;
        }

        return Parse(text, out error);
    }

    /// <summary>
    /// The validator's form of a JSON path: <c>$.models['gpt-4.1'].structured_output.policy</c> becomes
    /// <c>models.gpt-4.1.structured_output.policy</c> (dictionary keys as they are, array indexes in brackets).
    /// </summary>
    private static string ConfigPath(string root, string? jsonPath)
    {
        var path = new StringBuilder(root == "$" ? "" : root);
        var text = jsonPath ?? "$";
        for (var i = 1; i < text.Length;)
        {
            if (text[i] == '.')
            {
                var end = text.IndexOfAny(['.', '['], i + 1);
                end = end < 0 ? text.Length : end;
                Append(path, text[(i + 1)..end]);
                i = end;
            }
            else if (text.AsSpan(i).StartsWith("['", StringComparison.Ordinal))
            {
                var end = text.IndexOf("']", i + 2, StringComparison.Ordinal);
                end = end < 0 ? text.Length : end;
                Append(path, text[(i + 2)..end].Replace("\\'", "'", StringComparison.Ordinal));
                i = Math.Min(end + 2, text.Length);
            }
            else
            {
                var end = text.IndexOf(']', i);
                end = end < 0 ? text.Length - 1 : end;
                path.Append(text, i, end - i + 1);
                i = end + 1;
            }
        }

        return path.Length == 0 ? root : path.ToString();

        static void Append(StringBuilder path, string name) => (path.Length == 0 ? path : path.Append('.')).Append(name);
    }

    private static string FirstLine(string message)
    {
        var end = message.IndexOf('\n', StringComparison.Ordinal);
        return end < 0 ? message : message[..end].TrimEnd();
    }
}
