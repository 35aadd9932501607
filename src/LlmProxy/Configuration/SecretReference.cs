namespace LlmProxy.Configuration;

/// <summary>
/// Resolves credential references: <c>env:NAME</c> reads an environment variable, <c>file:/path</c> reads a
/// (mounted) file. Literal secrets are not accepted in the config.
/// </summary>
public static class SecretReference
{
    /// <summary>True when <paramref name="value"/> has a supported reference form.</summary>
    public static bool IsReference(string value)
        => (value.StartsWith("env:", StringComparison.Ordinal) && value.Length > 4)
            || (value.StartsWith("file:", StringComparison.Ordinal) && value.Length > 5);

    /// <summary>Resolves the reference; returns null and a reason when the secret is not available.</summary>
    public static string? TryResolve(string reference, out string? missingReason)
    {
        missingReason = null;
        if (reference.StartsWith("env:", StringComparison.Ordinal))
        {
            var name = reference[4..];
            var value = Environment.GetEnvironmentVariable(name);
            if (string.IsNullOrWhiteSpace(value))
            {
                missingReason = $"environment variable {name} is not set";
                return null;
            }

            return value.Trim();
        }

        var path = reference[5..];
        if (!File.Exists(path))
        {
            missingReason = $"file {path} does not exist";
            return null;
        }

        string text;
        try
        {
            text = File.ReadAllText(path).Trim();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            missingReason = $"file {path} cannot be read ({ex.GetType().Name})";
            return null;
        }

        if (text.Length == 0)
        {
            missingReason = $"file {path} is empty";
            return null;
        }

        return text;
    }
}
