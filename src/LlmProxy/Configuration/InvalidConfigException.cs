namespace LlmProxy.Configuration;

/// <summary>Thrown at start-up when the route config is invalid; the message lists every error with its path.</summary>
public sealed class InvalidConfigException : Exception
{
    /// <summary>Creates the exception.</summary>
    public InvalidConfigException(string path, IReadOnlyList<string> errors)
        : base($"Invalid LlmProxy config {path}:{Environment.NewLine}  " + string.Join(Environment.NewLine + "  ", errors))
        => Errors = errors;

    /// <summary>Creates the exception with a message.</summary>
    public InvalidConfigException()
        : this("(unknown)", [])
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    public InvalidConfigException(string message)
        : base(message) => Errors = [message];

    /// <summary>Creates the exception with a message and cause.</summary>
    public InvalidConfigException(string message, Exception innerException)
        : base(message, innerException) => Errors = [message];

    /// <summary>Every error, each prefixed with its config path.</summary>
    public IReadOnlyList<string> Errors { get; }
}
