using Yarp.ReverseProxy.Forwarder;

namespace LlmProxy.Errors;

/// <summary>
/// First stage of the proxy pipeline: YARP reports upstream failures as a status without a body; this turns
/// them into OpenAI-shaped errors (502 unreachable, 504 timeout, 503 no target) when nothing was sent yet.
/// </summary>
internal sealed class ForwarderErrorMiddleware
{
    private readonly RequestDelegate _next;

    public ForwarderErrorMiddleware(RequestDelegate next) => _next = next;

    public async Task Invoke(HttpContext context)
    {
        await _next(context);
        var error = context.Features.Get<IForwarderErrorFeature>();
        if (error is null || context.Response.HasStarted || context.RequestAborted.IsCancellationRequested)
        {
            return;
        }

        switch (error.Error)
        {
            case ForwarderError.RequestTimedOut:
                await ErrorWriter.WriteAsync(context, LlmError.UpstreamTimeout, "The provider did not respond in time.");
                break;
            case ForwarderError.NoAvailableDestinations:
                await ErrorWriter.WriteAsync(context, LlmError.NoAvailableTarget, "No target of this model is available.");
                break;
            case ForwarderError.RequestCanceled or ForwarderError.RequestBodyCanceled or ForwarderError.RequestBodyClient
                or ForwarderError.ResponseBodyCanceled or ForwarderError.ResponseBodyClient:
                break;
            default:
                await ErrorWriter.WriteAsync(context, LlmError.UpstreamUnreachable, "The provider could not be reached.");
                break;
        }
    }
}
