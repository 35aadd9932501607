using System.Collections.Frozen;
using LlmProxy.Auth;

namespace LlmProxy.Configuration;

/// <summary>
/// The immutable runtime model built from one valid config. A reload builds a new snapshot and swaps it
/// as a whole; a request keeps the snapshot it started with.
/// </summary>
public sealed class GatewaySnapshot
{
    /// <summary>Monotonic revision, 1 for the first load.</summary>
    public required long Revision { get; init; }

    /// <summary>The config this snapshot was built from.</summary>
    public required GatewayConfig Config { get; init; }

    /// <summary>Enabled providers by name.</summary>
    public required FrozenDictionary<string, ProviderRuntime> Providers { get; init; }

    /// <summary>Models by public name and by alias.</summary>
    public required FrozenDictionary<string, ModelRoute> Models { get; init; }

    /// <summary>Canonical models, sorted by name.</summary>
    public required ModelRoute[] ModelList { get; init; }

    /// <summary>Targets by YARP destination id.</summary>
    public required FrozenDictionary<string, ModelTarget> Targets { get; init; }

    /// <summary>Virtual keys.</summary>
    public required KeyTable Keys { get; init; }

    /// <summary>True when the config explicitly turned authentication off.</summary>
    public required bool AuthDisabled { get; init; }

    /// <summary>The compiled rate limits.</summary>
    public required RateLimiting.LimitPlans Limits { get; init; }

    /// <summary>The resolved Redis connection string; null keeps limits in memory.</summary>
    public string? RedisConnection { get; init; }

    /// <summary>Largest accepted request body.</summary>
    public long MaxRequestBodyBytes => Config.Server.MaxRequestBodyBytes;
}
