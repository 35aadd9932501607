using Microsoft.Extensions.Primitives;
using Yarp.ReverseProxy.Configuration;

namespace LlmProxy.Configuration;

/// <summary>The one YARP config provider: the current snapshot's routes and clusters, replaced on every reload.</summary>
internal sealed class YarpConfigProvider : IProxyConfigProvider
{
    private readonly ConfigStore _store;
    private readonly Lock _lock = new();
    private (long Revision, IProxyConfig Config)? _cached;

    /// <summary>Creates the provider over the store.</summary>
    public YarpConfigProvider(ConfigStore store) => _store = store;

    /// <inheritdoc/>
    public IProxyConfig GetConfig()
    {
        lock (_lock)
        {
            _store.LoadInitial();
            var changeToken = _store.GetChangeToken();
            var snapshot = _store.Current;
            if (_cached is { } cached && cached.Revision == snapshot.Revision)
            {
                return cached.Config;
            }

            var config = new ProxyConfig(YarpConfigMapper.Routes, YarpConfigMapper.MapClusters(snapshot), changeToken, snapshot.Revision.ToString(System.Globalization.CultureInfo.InvariantCulture));
            _cached = (snapshot.Revision, config);
            return config;
        }
    }

    private sealed class ProxyConfig(IReadOnlyList<RouteConfig> routes, IReadOnlyList<ClusterConfig> clusters, IChangeToken changeToken, string revision) : IProxyConfig
    {
        public IReadOnlyList<RouteConfig> Routes => routes;

        public IReadOnlyList<ClusterConfig> Clusters => clusters;

        public IChangeToken ChangeToken => changeToken;

        public string RevisionId => revision;
    }
}
