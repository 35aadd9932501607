using System.Collections.Concurrent;
using Yarp.ReverseProxy.Configuration;

namespace LlmProxy.IntegrationTests.Infrastructure;

/// <summary>Lets a test await the moment YARP has applied a config revision (no polling, no sleeps).</summary>
public sealed class ConfigAppliedListener : IConfigChangeListener
{
    private readonly ConcurrentDictionary<string, TaskCompletionSource> _applied = new();

    /// <summary>Completes when YARP has applied the revision.</summary>
    public Task WaitForRevisionAsync(long revision)
        => Get(revision.ToString(System.Globalization.CultureInfo.InvariantCulture)).Task.WaitAsync(TimeSpan.FromSeconds(20));

    public void ConfigurationApplied(IReadOnlyList<IProxyConfig> proxyConfigs)
    {
        foreach (var config in proxyConfigs)
        {
            Get(config.RevisionId).TrySetResult();
        }
    }

    public void ConfigurationApplyingFailed(IReadOnlyList<IProxyConfig> proxyConfigs, Exception exception)
    {
    }

    public void ConfigurationLoaded(IReadOnlyList<IProxyConfig> proxyConfigs)
    {
    }

    public void ConfigurationLoadingFailed(IProxyConfigProvider configProvider, Exception exception)
    {
    }

    private TaskCompletionSource Get(string revision)
        => _applied.GetOrAdd(revision, static _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
}
