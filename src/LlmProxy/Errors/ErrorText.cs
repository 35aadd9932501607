namespace LlmProxy.Errors;

/// <summary>Client input quoted in error messages, cut to a readable length (a 1 MB model name is not echoed back).</summary>
public static class ErrorText
{
    /// <summary>Longest piece of client input quoted in a message.</summary>
    public const int MaxQuoted = 256;

    /// <summary>The value, or its first <see cref="MaxQuoted"/> characters followed by "…" (never splitting a surrogate pair).</summary>
    public static string Clip(string? value)
    {
        if (value is null || value.Length <= MaxQuoted)
        {
            return value ?? "";
        }

        var cut = char.IsHighSurrogate(value[MaxQuoted - 1]) ? MaxQuoted - 1 : MaxQuoted;
        return string.Concat(value.AsSpan(0, cut), "…");
    }
}
