using System.Text.Json.Serialization;

namespace LlmProxy.Configuration;

/// <summary>What limits do while Redis is unreachable: the values of <see cref="RedisSettings.OnFailure"/> (<c>redis.on_failure</c>).</summary>
[JsonConverter(typeof(ConfigEnumConverter<RedisFailurePolicy>))]
public enum RedisFailurePolicy
{
    /// <summary><c>fail-open</c>: admit, counting locally against limit / replicas.</summary>
    [JsonStringEnumMemberName("fail-open")]
    FailOpen,

    /// <summary><c>fail-closed</c>: refuse with 503.</summary>
    [JsonStringEnumMemberName("fail-closed")]
    FailClosed,
}
