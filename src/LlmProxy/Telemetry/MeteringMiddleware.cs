using System.Diagnostics;
using LlmProxy.Auth;
using LlmProxy.Configuration;
using LlmProxy.Hosting;
using LlmProxy.Usage;
using Yarp.ReverseProxy.Forwarder;

namespace LlmProxy.Telemetry;

/// <summary>
/// Stage 0 (before authentication): starts every LLM request's <see cref="LlmRequestFeature"/> — an id
/// (<c>x-request-id</c>, an incoming one is kept), the clock and the config snapshot — and, when metering is on and
/// the response is finished (completed, failed or abandoned by the client), turns it into one <see cref="UsageRecord"/>
/// for the sinks (from Kestrel's OnCompleted, or at the end of the span's async scope when tracing).
/// </summary>
internal sealed partial class MeteringMiddleware
{
    /// <summary>The request id header.</summary>
    public const string RequestIdHeader = "x-request-id";

    private readonly RequestDelegate _next;
    private readonly ConfigStore _store;
    private readonly TimeProvider _time;
    private readonly IUsageSink[] _sinks;
    private readonly LlmProxyMetrics _metrics;
    private readonly RequestLogSink? _requestLog;
    private readonly ILogger<MeteringMiddleware> _logger;
    private readonly ModelNameTable _modelNames;
    private readonly IdSequence _requestIds = new("req_");

    public MeteringMiddleware(RequestDelegate next, ConfigStore store, TimeProvider time, IEnumerable<IUsageSink> sinks, LlmProxyMetrics metrics,
        ModelNameTable modelNames, ILogger<MeteringMiddleware> logger)
    {
        _logger = logger;
        _modelNames = modelNames;
        _next = next;
        _store = store;
        _time = time;
        _sinks = [.. sinks];
        _metrics = metrics;
        _requestLog = _sinks.OfType<RequestLogSink>().FirstOrDefault();
    }

    public Task Invoke(HttpContext context)
    {
        var metadata = context.GetEndpoint()?.Metadata;
        var metered = metadata?.GetMetadata<MeteredAttribute>() is not null;
        if (!metered && metadata?.GetMetadata<RequiresVirtualKeyAttribute>() is null)
        {
            return _next(context);
        }

        var requestId = RequestIdOf(context.Request.Headers);
        context.Response.Headers[RequestIdHeader] = requestId;
        var snapshot = _store.Current;
        var telemetry = snapshot.Config.Telemetry;
        metered &= telemetry.Metering;
        var request = new LlmRequestFeature(snapshot, requestId, _time.GetTimestamp())
        {
            Metered = metered,
            ClientAborted = context.RequestAborted,
            ModelNames = _modelNames,
            CaptureBodies = metered && _requestLog?.BodiesEnabled(telemetry.LogBodies) == true,
        };
        context.Features.Set(request);
        if (!metered)
        {
            return _next(context);
        }

        _metrics.RequestActive(1);

        // The GenAI span exists only when someone listens (OTLP configured, or a test); it needs an async scope.
        if (LlmProxyActivity.Source.HasListeners())
        {
            return InvokeTraced(context, request);
        }

        // Without a span the record is made when Kestrel has finished the response, however it ended: no async
        // state machine and no extra continuation per request.
        request.CaptureDetails = _requestLog?.Enabled == true;
        context.Response.OnCompleted(static state =>
        {
            var (self, context, request) = (Tuple<MeteringMiddleware, HttpContext, LlmRequestFeature>)state;
            self._metrics.RequestActive(-1);
            self.Publish(context, request, null);
            return Task.CompletedTask;
        }, Tuple.Create(this, context, request));
        return _next(context);
    }

    private async Task InvokeTraced(HttpContext context, LlmRequestFeature request)
    {
        // Without ASP.NET Core's request Activity (tracing off, see AddLlmProxyTelemetry) the span joins the caller's trace.
        var activity = Activity.Current is null && ActivityContext.TryParse(context.Request.Headers.TraceParent, context.Request.Headers.TraceState, out var parent)
            ? LlmProxyActivity.Source.StartActivity("llm.request", ActivityKind.Internal, parent)
            : LlmProxyActivity.Source.StartActivity("llm.request", ActivityKind.Internal);
        request.CaptureDetails = activity is not null || _requestLog?.Enabled == true;
        try
        {
            await _next(context);
        }
        catch
        {
            request.Fault = true;
            throw;
        }
        finally
        {
            _metrics.RequestActive(-1);
            Publish(context, request, activity);
        }
    }

    // Metering must never break a response: a failing sink is logged and the others still run.
    private void Publish(HttpContext context, LlmRequestFeature request, Activity? activity)
    {
        UsageRecord? record = null;
        try
        {
            record = Finish(context, request, _time.GetTimestamp());
            if (request.CaptureBodies)
            {
                _requestLog!.LogBodies(request.RequestId, request.PromptText, request.AnswerText);
            }
        }
        catch (Exception ex) when (ex is ArithmeticException or InvalidOperationException or ArgumentException)
        {
            Log.SinkFailed(_logger, "record", ex);
        }
        finally
        {
            // Limits settle first and always: a reservation must be given back even if the record or a sink fails.
            request.Settlement?.Settle(record);
        }

        if (record is null)
        {
            activity?.Dispose();
            return;
        }

        foreach (var sink in _sinks)
        {
            try
            {
                sink.Record(record);
            }
            catch (Exception ex) when (ex is ArithmeticException or InvalidOperationException or ArgumentException)
            {
                Log.SinkFailed(_logger, sink.GetType().Name, ex);
            }
        }

        if (activity is not null)
        {
            LlmProxyActivity.Complete(activity, record);
        }
    }

    // An incoming id is kept when it is short printable ASCII; otherwise the gateway makes one.
    private string RequestIdOf(IHeaderDictionary headers)
    {
        var incoming = headers[RequestIdHeader];
        if (incoming.Count == 1 && incoming[0] is { Length: > 0 and <= 128 } id && IsPrintableAscii(id))
        {
            return id;
        }

        return _requestIds.Next();
    }

    private static bool IsPrintableAscii(string value)
    {
        foreach (var c in value)
        {
            if (c is < '!' or > '~')
            {
                return false;
            }
        }

        return true;
    }

    private UsageRecord Finish(HttpContext context, LlmRequestFeature request, long end)
    {
        var target = request.Target;
        var status = request.Fault && !context.Response.HasStarted ? StatusCodes.Status500InternalServerError : context.Response.StatusCode;
        var forwarderError = context.Features.Get<IForwarderErrorFeature>()?.Error ?? ForwarderError.None;
        // An exception the pipeline did not handle: caught above when traced; otherwise Kestrel answered 500 itself.
        var unhandled = request.Fault || (status >= 500 && request.UpstreamStatus == 0 && request.GatewayError is null && forwarderError == ForwarderError.None
            && request.StreamFailure == ErrorCategory.None);
        var error = unhandled ? ErrorCategory.Internal
            : request.UpstreamStatus >= 400 ? ErrorCategories.OfUpstreamStatus(request.UpstreamStatus)
            : request.GatewayError is { } gatewayError ? ErrorCategories.Of(gatewayError)
            : request.StreamFailure != ErrorCategory.None ? request.StreamFailure
            : context.RequestAborted.IsCancellationRequested ? ErrorCategory.ClientCancelled
            : forwarderError != ForwarderError.None ? ErrorCategories.OfForwarder(forwarderError)
            : ErrorCategory.None;

        // Tokens are counted when the provider answered successfully, even if the client left mid-stream.
        TokenUsage? usage = request.UpstreamStatus is >= 200 and < 300 ? request.ResolveUsage() : null;
        var total = Seconds(request.Start, end);
        double? upstream = request.UpstreamStart > 0 ? Seconds(request.UpstreamStart, request.UpstreamEnd > 0 ? request.UpstreamEnd : end) : null;
        var stream = request.Request.Stream;
        double? ttft = stream && request.FirstToken > 0 ? Seconds(request.Start, request.FirstToken) : null;
        // Reasoning tokens come before the first visible text: only the visible ones pace the rest of the stream.
        var visible = usage is { } u ? u.Output - u.Reasoning : 0;
        double? perToken = stream && request.FirstToken > 0 && visible > 1 && request.UpstreamEnd > request.FirstToken
            ? Seconds(request.FirstToken, request.UpstreamEnd) / (visible - 1)
            : null;

        return new UsageRecord
        {
            RequestId = request.RequestId,
            Operation = OperationOf(request.OperationPath),
            RequestModel = request.Model is not null ? request.Request.Model : "unknown",
            Model = request.Model?.Name,
            ResponseModel = request.ResponseModel,
            Provider = target?.Provider.Name,
            ProviderSystem = target?.Provider.GenAiName,
            Target = target?.UpstreamModel,
            KeyId = request.Authenticated ? request.Key.Id : null,
            Team = request.Authenticated ? request.Key.Team : null,
            Stream = stream,
            Status = status,
            Error = error,
            Usage = usage,
            CostUsd = usage is { } known ? CostCalculator.Compute(known, target?.Price) : null,
            Duration = total,
            UpstreamDuration = upstream,
            Overhead = Math.Max(0, total - (upstream ?? 0)),
            TimeToFirstToken = ttft,
            TimePerOutputToken = perToken,
            FinishReason = request.FinishReason,
            ResponseId = request.ResponseId,
            Timestamp = _time.GetUtcNow() - TimeSpan.FromSeconds(total),
        };
    }

    private double Seconds(long from, long to) => _time.GetElapsedTime(from, to).TotalSeconds;

    private static string OperationOf(string operationPath) => operationPath switch
    {
        "/embeddings" => "embeddings",
        "/completions" => "text_completion",
        _ => "chat",
    };

    private static partial class Log
    {
        [LoggerMessage(EventId = EventIds.MeteringFailed, Level = LogLevel.Error, Message = "Metering failed in {Sink}; the response was not affected")]
        public static partial void SinkFailed(ILogger logger, string sink, Exception exception);
    }
}
