using System.Globalization;

namespace LlmProxy.Bench;

/// <summary>
/// The limits of the limited settings (<see cref="GatewayMode.RedisLimits"/>, <see cref="GatewayMode.MemoryLimits"/>): a
/// request and a token limit per minute on the key and on the model, far above what the bench sends, so every request
/// is admitted (the bench measures the cost of deciding, not refusals). Each setting has its own request limit, which
/// the gateway reports in <c>x-ratelimit-limit-requests</c>: that is how <see cref="GatewayModeSwitch"/> tells them apart.
/// </summary>
internal static class GatewayLimits
{
    /// <summary>Requests per minute of the Redis-limits setting.</summary>
    public const long RedisRequestsPerMinute = 100_000_000;

    /// <summary>Requests per minute of the in-memory-limits setting.</summary>
    public const long MemoryRequestsPerMinute = 200_000_000;

    /// <summary>Tokens per minute of both limited settings.</summary>
    public const long TokensPerMinute = 1_000_000_000_000;

    /// <summary>The request limit of a limited mode, as the config and the header write it.</summary>
    public static string RequestsPerMinute(GatewayMode mode)
        => (mode == GatewayMode.MemoryLimits ? MemoryRequestsPerMinute : RedisRequestsPerMinute).ToString(CultureInfo.InvariantCulture);
}
