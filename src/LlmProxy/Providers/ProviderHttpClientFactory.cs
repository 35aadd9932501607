using System.Globalization;
using Yarp.ReverseProxy.Forwarder;

namespace LlmProxy.Providers;

/// <summary>
/// YARP's handler for provider connections, with two changes: a response the gateway stops reading (the client left,
/// or an answer stopped early for breaking its schema) is not drained, so the connection closes at once and the
/// provider stops generating tokens nobody will read; and connecting is bounded by the model's
/// <c>connect_timeout_seconds</c> (cluster metadata <see cref="ConnectTimeoutKey"/>), so an address that drops
/// packets fails the attempt over in seconds, not after the system's minutes.
/// </summary>
internal sealed class ProviderHttpClientFactory : ForwarderHttpClientFactory
{
    /// <summary>The cluster metadata key with the connect timeout in seconds.</summary>
    public const string ConnectTimeoutKey = "llmproxy.connect_timeout_seconds";

    protected override bool CanReuseOldClient(ForwarderHttpClientContext context)
        => base.CanReuseOldClient(context) && TimeoutOf(context.OldMetadata) == TimeoutOf(context.NewMetadata);

    protected override void ConfigureHandler(ForwarderHttpClientContext context, SocketsHttpHandler handler)
    {
        base.ConfigureHandler(context, handler);
        handler.MaxResponseDrainSize = 0;
        if (TimeoutOf(context.NewMetadata) is { } timeout)
        {
            handler.ConnectTimeout = timeout;
        }
    }

    private static TimeSpan? TimeoutOf(IReadOnlyDictionary<string, string>? metadata)
        => metadata is not null && metadata.TryGetValue(ConnectTimeoutKey, out var text)
            && double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds) && seconds > 0
            ? TimeSpan.FromSeconds(seconds) : null;
}
