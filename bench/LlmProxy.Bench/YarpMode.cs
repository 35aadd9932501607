using System.Net;
using Yarp.ReverseProxy.Configuration;
using Yarp.ReverseProxy.Forwarder;

namespace LlmProxy.Bench;

/// <summary>
/// <c>yarp --port N --upstream URL</c>: a bare YARP proxy with the same YARP version and the same upstream HTTP
/// settings as LlmProxy, but none of its stages: one catch-all route to one cluster with one destination.
/// </summary>
internal static class YarpMode
{
    public static async Task<int> RunAsync(int port, string upstream)
    {
        var builder = WebApplication.CreateBuilder();
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.WebHost.ConfigureKestrel(options => options.Listen(IPAddress.Loopback, port));

        RouteConfig[] routes =
        [
            new RouteConfig { RouteId = "all", ClusterId = "upstream", Match = new RouteMatch { Path = "/{**catch-all}" } },
        ];
        ClusterConfig[] clusters =
        [
            new ClusterConfig
            {
                ClusterId = "upstream",
                Destinations = new Dictionary<string, DestinationConfig>
                {
                    ["upstream"] = new DestinationConfig { Address = upstream },
                },
                HttpRequest = new ForwarderRequestConfig
                {
                    Version = HttpVersion.Version20,
                    VersionPolicy = HttpVersionPolicy.RequestVersionOrLower,
                },
            },
        ];
        builder.Services.AddReverseProxy().LoadFromMemory(routes, clusters);

        var app = builder.Build();
        app.MapReverseProxy();
        await app.RunAsync();
        return 0;
    }
}
