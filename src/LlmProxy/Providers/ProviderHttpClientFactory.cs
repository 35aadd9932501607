using Yarp.ReverseProxy.Forwarder;

namespace LlmProxy.Providers;

/// <summary>
/// YARP's handler for provider connections, with one change: a response the gateway stops reading (the client left,
/// or an answer stopped early for breaking its schema) is not drained, so the connection closes at once and the
/// provider stops generating tokens nobody will read.
/// </summary>
internal sealed class ProviderHttpClientFactory : ForwarderHttpClientFactory
{
    protected override void ConfigureHandler(ForwarderHttpClientContext context, SocketsHttpHandler handler)
    {
        base.ConfigureHandler(context, handler);
        handler.MaxResponseDrainSize = 0;
    }
}
