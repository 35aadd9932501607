namespace LlmProxy.Configuration;

/// <summary>Names of <see cref="RedisFailurePolicy"/>.</summary>
public static class RedisFailurePolicies
{
    /// <summary>The config value (<c>fail-open</c>, <c>fail-closed</c>), as logged.</summary>
    public static string Name(this RedisFailurePolicy policy) => policy switch
    {
        RedisFailurePolicy.FailOpen => "fail-open",
        RedisFailurePolicy.FailClosed => "fail-closed",
        _ => throw new ArgumentOutOfRangeException(nameof(policy), policy, null),
    };
}
