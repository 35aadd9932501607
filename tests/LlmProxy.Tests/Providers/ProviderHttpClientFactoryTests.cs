using System.Net;
using System.Net.Sockets;
using LlmProxy.Providers;
using Yarp.ReverseProxy.Configuration;
using Yarp.ReverseProxy.Forwarder;

namespace LlmProxy.Tests.Providers;

public sealed class ProviderHttpClientFactoryTests
{
    [Fact]
    public async Task CreateClient_ConnectTimeoutInMetadata_AConnectionThatNeverOpensFailsInTime()
    {
        // A listener whose backlog is full: the next connection attempt is neither accepted nor refused.
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(0);
        var port = ((IPEndPoint)listener.LocalEndPoint!).Port;
        var fillers = new List<Socket>();
        for (var i = 0; i < 8; i++)
        {
            var filler = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { Blocking = false };
            try
            {
                filler.Connect(IPAddress.Loopback, port);
            }
            catch (SocketException)
            {
                // In progress.
            }

            fillers.Add(filler);
        }

        var client = new ProviderHttpClientFactory().CreateClient(new ForwarderHttpClientContext
        {
            ClusterId = "c",
            OldConfig = HttpClientConfig.Empty,
            NewConfig = HttpClientConfig.Empty,
            NewMetadata = new Dictionary<string, string> { [ProviderHttpClientFactory.ConnectTimeoutKey] = "0.5" },
        });
        var clock = System.Diagnostics.Stopwatch.StartNew();

        using var request = new HttpRequestMessage(HttpMethod.Get, $"http://127.0.0.1:{port}/");
        var error = await Assert.ThrowsAnyAsync<Exception>(() => client.SendAsync(request, CancellationToken.None));

        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"took {clock.Elapsed.TotalSeconds} s ({error.GetType().Name})");
        fillers.ForEach(f => f.Dispose());
    }
}
