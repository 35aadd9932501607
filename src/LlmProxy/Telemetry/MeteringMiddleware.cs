using System.Diagnostics;
using LlmProxy.Configuration;
using LlmProxy.Routing;
using LlmProxy.Usage;
using Yarp.ReverseProxy.Forwarder;

namespace LlmProxy.Telemetry;

/// <summary>
/// Stage 0 (before authentication): gives every forwarded request an id (<c>x-request-id</c>, an incoming one is
/// kept) and a <see cref="RequestMeter"/>, and when the response is finished — completed, failed or abandoned by
/// the client — turns the meter into one <see cref="UsageRecord"/> for the sinks (from Kestrel's OnCompleted, or
/// at the end of the span's async scope when tracing).
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
        if (context.GetEndpoint()?.Metadata.GetMetadata<MeteredAttribute>() is null)
        {
            return _next(context);
        }

        var requestId = RequestIdOf(context.Request.Headers);
        context.Response.Headers[RequestIdHeader] = requestId;
        var telemetry = _store.Current.Config.Telemetry;
        if (!telemetry.Metering)
        {
            return _next(context);
        }

        var meter = new RequestMeter(requestId, _time.GetTimestamp())
        {
            ModelNames = _modelNames,
            CaptureBodies = _requestLog?.BodiesEnabled(telemetry.LogBodies) == true,
        };
        context.Features.Set(meter);
        _metrics.RequestActive(1);

        // The GenAI span exists only when someone listens (OTLP configured, or a test); it needs an async scope.
        if (LlmProxyActivity.Source.HasListeners())
        {
            return InvokeTraced(context, meter);
        }

        // Without a span the record is made when Kestrel has finished the response, however it ended: no async
        // state machine and no extra continuation per request.
        meter.CaptureDetails = _requestLog?.Enabled == true;
        context.Response.OnCompleted(static state =>
        {
            var (self, context, meter) = (Tuple<MeteringMiddleware, HttpContext, RequestMeter>)state;
            self._metrics.RequestActive(-1);
            self.Publish(context, meter, null);
            return Task.CompletedTask;
        }, Tuple.Create(this, context, meter));
        return _next(context);
    }

    private async Task InvokeTraced(HttpContext context, RequestMeter meter)
    {
        var activity = LlmProxyActivity.Source.StartActivity("llm.request", ActivityKind.Internal);
        meter.CaptureDetails = activity is not null || _requestLog?.Enabled == true;
        try
        {
            await _next(context);
        }
        catch
        {
            meter.Fault = true;
            throw;
        }
        finally
        {
            _metrics.RequestActive(-1);
            Publish(context, meter, activity);
        }
    }

    // Metering must never break a response: a failing sink is logged and the others still run.
    private void Publish(HttpContext context, RequestMeter meter, Activity? activity)
    {
        UsageRecord? record = null;
        try
        {
            record = Finish(context, meter, _time.GetTimestamp());
            if (meter.CaptureBodies)
            {
                _requestLog!.LogBodies(meter.RequestId, meter.PromptText, meter.AnswerText);
            }
        }
        catch (Exception ex) when (ex is ArithmeticException or InvalidOperationException or ArgumentException)
        {
            Log.SinkFailed(_logger, "record", ex);
        }
        finally
        {
            // Limits settle first and always: a reservation must be given back even if the record or a sink fails.
            meter.Settlement?.Settle(record);
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

    private UsageRecord Finish(HttpContext context, RequestMeter meter, long end)
    {
        var feature = context.Features.Get<LlmRequestFeature>();
        var target = feature?.Target;
        var status = meter.Fault && !context.Response.HasStarted ? StatusCodes.Status500InternalServerError : context.Response.StatusCode;
        var forwarderError = context.Features.Get<IForwarderErrorFeature>()?.Error ?? ForwarderError.None;
        // An exception the pipeline did not handle: caught above when traced; otherwise Kestrel answered 500 itself.
        var unhandled = meter.Fault || (status >= 500 && meter.UpstreamStatus == 0 && meter.GatewayError is null && forwarderError == ForwarderError.None
            && meter.StreamFailure == ErrorCategory.None);
        var error = unhandled ? ErrorCategory.Internal
            : meter.UpstreamStatus >= 400 ? ErrorCategories.OfUpstreamStatus(meter.UpstreamStatus)
            : meter.GatewayError is { } gatewayError ? ErrorCategories.Of(gatewayError)
            : meter.StreamFailure != ErrorCategory.None ? meter.StreamFailure
            : context.RequestAborted.IsCancellationRequested ? ErrorCategory.ClientCancelled
            : forwarderError != ForwarderError.None ? ErrorCategories.OfForwarder(forwarderError)
            : ErrorCategory.None;

        // Tokens are counted when the provider answered successfully, even if the client left mid-stream.
        TokenUsage? usage = meter.UpstreamStatus is >= 200 and < 300 ? meter.ResolveUsage(feature?.Body.Count ?? 0) : null;
        var total = Seconds(meter.Start, end);
        double? upstream = meter.UpstreamStart > 0 ? Seconds(meter.UpstreamStart, meter.UpstreamEnd > 0 ? meter.UpstreamEnd : end) : null;
        var stream = feature?.Request.Stream == true;
        double? ttft = stream && meter.FirstToken > 0 ? Seconds(meter.Start, meter.FirstToken) : null;
        // Reasoning tokens come before the first visible text: only the visible ones pace the rest of the stream.
        var visible = usage is { } u ? u.Output - u.Reasoning : 0;
        double? perToken = stream && meter.FirstToken > 0 && visible > 1 && meter.UpstreamEnd > meter.FirstToken
            ? Seconds(meter.FirstToken, meter.UpstreamEnd) / (visible - 1)
            : null;

        return new UsageRecord
        {
            RequestId = meter.RequestId,
            Operation = OperationOf(feature?.OperationPath),
            RequestModel = feature?.Model is not null ? feature.Request.Model : "unknown",
            Model = feature?.Model?.Name,
            ResponseModel = meter.ResponseModel,
            Provider = target?.Provider.Name,
            ProviderSystem = target?.Provider.GenAiName,
            Target = target?.UpstreamModel,
            KeyId = feature?.Key.Id,
            Team = feature?.Key.Team,
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
            FinishReason = meter.FinishReason,
            ResponseId = meter.ResponseId,
            Timestamp = _time.GetUtcNow() - TimeSpan.FromSeconds(total),
        };
    }

    private double Seconds(long from, long to) => _time.GetElapsedTime(from, to).TotalSeconds;

    private static string OperationOf(string? operationPath) => operationPath switch
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
