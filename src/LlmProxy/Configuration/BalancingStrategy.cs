using System.Text.Json.Serialization;

namespace LlmProxy.Configuration;

/// <summary>How a model's requests are spread over its targets: the values of <see cref="ModelConfig.Strategy"/>.</summary>
[JsonConverter(typeof(ConfigEnumConverter<BalancingStrategy>))]
public enum BalancingStrategy
{
    /// <summary><c>weighted</c>: at random, in proportion to the targets' weights.</summary>
    [JsonStringEnumMemberName("weighted")]
    Weighted,

    /// <summary><c>round_robin</c>: each target in turn (weights only take a target out, at 0).</summary>
    [JsonStringEnumMemberName("round_robin")]
    RoundRobin,

    /// <summary><c>least_in_flight</c>: the target with the fewest requests in flight (ties at random, by weight).</summary>
    [JsonStringEnumMemberName("least_in_flight")]
    LeastInFlight,

    /// <summary>
    /// <c>latency</c>: power of two choices — two targets drawn by weight, the one with the lower score goes: the EWMA of its
    /// time to first token (first byte, unstreamed) × (1 + penalty × its EWMA error rate) × (1 + its requests in flight).
    /// </summary>
    [JsonStringEnumMemberName("latency")]
    Latency,
}
