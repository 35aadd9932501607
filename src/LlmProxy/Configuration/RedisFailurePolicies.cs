namespace LlmProxy.Configuration;

/// <summary>The values of <see cref="RedisSettings.OnFailure"/>.</summary>
public static class RedisFailurePolicies
{
    /// <summary>Admit, counting locally against limit / replicas.</summary>
    public const string FailOpen = "fail-open";

    /// <summary>Refuse with 503.</summary>
    public const string FailClosed = "fail-closed";
}
