using System.Text;
using LlmProxy.Auth;
using LlmProxy.Configuration;
using LlmProxy.Hosting;
using LlmProxy.Providers;
using LlmProxy.Routing;
using LlmProxy.Tests.Configuration;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Yarp.ReverseProxy.Model;

namespace LlmProxy.Tests.Providers;

public sealed class TargetMiddlewareTests : IDisposable
{
    private readonly string _path = Path.Combine(Directory.CreateTempSubdirectory("llmproxy-unit-").FullName, "llmproxy.json");
    private readonly ConfigStore _store;

    public TargetMiddlewareTests()
    {
        File.WriteAllText(_path, Config("a"));
        _store = new ConfigStore(_path, SnapshotBuilderTests.Builder(), NullLogger<ConfigStore>.Instance, new FakeTimeProvider());
        _store.LoadInitial();
    }

    public void Dispose()
    {
        _store.Dispose();
        Directory.Delete(Path.GetDirectoryName(_path)!, recursive: true);
    }

    private static string Config(string provider) => $$"""
        {
          "providers": {
            "a": { "type": "openai-compatible", "base_url": "http://a.example/v1" },
            "b": { "type": "openai-compatible", "base_url": "http://b.example/v1" }
          },
          "models": { "m": { "targets": [ { "provider": "{{provider}}", "model": "up-{{provider}}" } ] } },
          "auth": { "mode": "none" }
        }
        """;

    private static (DefaultHttpContext Context, LlmRequestFeature Feature) Request(GatewaySnapshot snapshot, string destinationId)
    {
        var body = Encoding.UTF8.GetBytes("""{"model":"m","n":1}""");
        LlmRequestParser.TryParse(body, out var info);
        var context = new DefaultHttpContext();
        var feature = new LlmRequestFeature(snapshot, "r", 1) { Key = VirtualKey.Anonymous, Body = new ArraySegment<byte>(body), Request = info };
        context.Features.Set(feature);
        context.Features.Set<IReverseProxyFeature>(new FakeProxyFeature { AvailableDestinations = [new DestinationState(destinationId)] });
        context.Response.Body = new MemoryStream();
        return (context, feature);
    }

    [Fact]
    public async Task Invoke_DestinationOfRequestSnapshot_RewritesModelAndCallsNext()
    {
        var snapshot = _store.Current;
        var target = snapshot.Models["m"].Targets[0];
        var (context, feature) = Request(snapshot, target.DestinationId);
        string? forwarded = null;
        var middleware = new TargetMiddleware(async c => forwarded = await new StreamReader(c.Request.Body).ReadToEndAsync(), _store, TimeProvider.System, new TargetStats(TimeProvider.System));

        await middleware.Invoke(context);

        Assert.Same(target, feature.Target);
        Assert.Equal("""{"model":"up-a","n":1}""", forwarded);
        Assert.Equal(forwarded!.Length, context.Request.ContentLength);
    }

    [Fact]
    public async Task Invoke_ReloadSwappedProviderMidRequest_UsesTheTargetOwningTheDestination()
    {
        var before = _store.Current;
        File.WriteAllText(_path, Config("b"));
        Assert.True(_store.Reload());
        var after = _store.Current.Models["m"].Targets[0];

        // The request authenticated under the old snapshot; YARP already forwards to the new destination.
        var (context, feature) = Request(before, after.DestinationId);
        var middleware = new TargetMiddleware(_ => Task.CompletedTask, _store, TimeProvider.System, new TargetStats(TimeProvider.System));
        await middleware.Invoke(context);

        Assert.NotEqual(before.Models["m"].Targets[0].DestinationId, after.DestinationId);
        Assert.Same(after, feature.Target);
        Assert.Equal("b", feature.Target!.Provider.Name);
    }

    [Fact]
    public async Task Invoke_DestinationInNoSnapshot_Returns503WithoutForwarding()
    {
        var (context, feature) = Request(_store.Current, "m#0:gone@http://gone.example/v1");
        var called = false;
        var middleware = new TargetMiddleware(_ => { called = true; return Task.CompletedTask; }, _store, TimeProvider.System, new TargetStats(TimeProvider.System));

        await middleware.Invoke(context);

        Assert.False(called);
        Assert.Null(feature.Target);
        Assert.Equal(503, context.Response.StatusCode);
    }

    private sealed class FakeProxyFeature : IReverseProxyFeature
    {
        public RouteModel Route => null!;

        public ClusterModel Cluster { get; set; } = null!;

        public IReadOnlyList<DestinationState> AllDestinations { get; set; } = [];

        public IReadOnlyList<DestinationState> AvailableDestinations { get; set; } = [];

        public DestinationState? ProxiedDestination { get; set; }
    }
}
