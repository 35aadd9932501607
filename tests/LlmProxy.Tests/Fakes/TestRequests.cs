using LlmProxy.Configuration;
using LlmProxy.Hosting;
using LlmProxy.Tests.Configuration;

namespace LlmProxy.Tests.Fakes;

/// <summary>Request state for tests of the pieces that read or fill it (usage readers, stream observers).</summary>
internal static class TestRequests
{
    /// <summary>A snapshot of a config with no providers (a request's state always has one).</summary>
    public static readonly GatewaySnapshot EmptySnapshot = SnapshotBuilderTests.Builder().Build(SnapshotBuilderTests.Parse("{}"), 1).Snapshot!;

    /// <summary>A metered request's state, started at timestamp 1.</summary>
    public static LlmRequestFeature Metered(string requestId = "r") => new(EmptySnapshot, requestId, 1) { Metered = true };
}
