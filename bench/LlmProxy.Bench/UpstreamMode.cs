using System.Buffers;
using System.IO.Pipelines;
using System.Net;

namespace LlmProxy.Bench;

/// <summary>
/// <c>upstream --port N</c>: a fake OpenAI provider that answers at once. Any POST gets a fixed 1 KB
/// <c>chat.completion</c>, or, when the body has <c>"stream":true</c>, a short <c>text/event-stream</c> whose first
/// event is flushed before the rest. Any GET gets 200 "ok" (readiness). No logging, no routing. The failing variant:
/// a POST under <see cref="Payloads.FailingPrefix"/> (<c>/fail20/v1/...</c>) is answered with 503 and an OpenAI-shaped
/// error for exactly one request in <see cref="Payloads.FailEvery"/> (a counter shared by all its requests), otherwise
/// like any other POST. The 503 carries no <c>Retry-After</c>, so the gateway retries on another target at once and
/// keeps no target out of rotation. The slow variant: a streamed POST under <see cref="Payloads.SlowPrefix"/>
/// (<c>/slow/v1/...</c>) gets its first event at once, then one chunk every <c>--open-streams-chunk-seconds</c> for
/// <c>--open-streams-seconds</c>, then the finish reason, usage and <c>[DONE]</c> (<see cref="Payloads.SlowStreamEvents"/>).
/// </summary>
internal static class UpstreamMode
{
    private static readonly byte[] Ok = "ok"u8.ToArray();
    private static readonly byte[] StreamTrue = "\"stream\":true"u8.ToArray();
    private static readonly byte[] StreamTrueSpaced = "\"stream\": true"u8.ToArray();
    private static readonly PathString FailingPrefix = Payloads.FailingPrefix;
    private static readonly PathString SlowPrefix = Payloads.SlowPrefix;

    // The slow variant's stream and the time between two of its events.
    private static byte[][] _slowEvents = [];
    private static TimeSpan _slowInterval;

    // Requests seen under FailingPrefix; every FailEvery-th one fails.
    private static long _failingPathRequests;

    public static async Task<int> RunAsync(int port, double slowSeconds, double slowChunkSeconds)
    {
        _slowEvents = Payloads.SlowStreamEvents(Payloads.SlowStreamChunks(slowSeconds, slowChunkSeconds));
        _slowInterval = TimeSpan.FromSeconds(slowChunkSeconds);
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(options =>
        {
            options.AddServerHeader = false;
            options.Listen(IPAddress.Loopback, port);
        });

        var app = builder.Build();
        app.Run(HandleAsync);
        await app.RunAsync();
        return 0;
    }

    private static async Task HandleAsync(HttpContext context)
    {
        var request = context.Request;
        var response = context.Response;
        if (!HttpMethods.IsPost(request.Method))
        {
            response.ContentType = "text/plain";
            response.ContentLength = Ok.Length;
            await response.Body.WriteAsync(Ok, context.RequestAborted);
            return;
        }

        var streaming = await IsStreamingAsync(request.BodyReader, context.RequestAborted);
        if (request.Path.StartsWithSegments(FailingPrefix) && Interlocked.Increment(ref _failingPathRequests) % Payloads.FailEvery == 0)
        {
            response.StatusCode = StatusCodes.Status503ServiceUnavailable;
            response.ContentType = "application/json";
            response.ContentLength = Payloads.ServerError.Length;
            await response.Body.WriteAsync(Payloads.ServerError, context.RequestAborted);
            return;
        }

        if (streaming && request.Path.StartsWithSegments(SlowPrefix))
        {
            await WriteSlowStreamAsync(response, context.RequestAborted);
            return;
        }

        if (streaming)
        {
            response.ContentType = "text/event-stream";
            response.Headers.CacheControl = "no-cache";
            await response.Body.WriteAsync(Payloads.FirstStreamEvent, context.RequestAborted);
            await response.Body.FlushAsync(context.RequestAborted);
            foreach (var streamEvent in Payloads.LaterStreamEvents)
            {
                await response.Body.WriteAsync(streamEvent, context.RequestAborted);
                await response.Body.FlushAsync(context.RequestAborted);
            }

            return;
        }

        response.ContentType = "application/json";
        response.ContentLength = Payloads.ChatCompletion.Length;
        await response.Body.WriteAsync(Payloads.ChatCompletion, context.RequestAborted);
    }

    /// <summary>The slow variant: the first event at once, a chunk per interval, then the finish reason, usage and [DONE] together.</summary>
    private static async Task WriteSlowStreamAsync(HttpResponse response, CancellationToken cancellationToken)
    {
        response.ContentType = "text/event-stream";
        response.Headers.CacheControl = "no-cache";
        var events = _slowEvents;
        await response.Body.WriteAsync(events[0], cancellationToken);
        await response.Body.FlushAsync(cancellationToken);
        var chunks = events.Length - 4;
        for (var i = 1; i <= chunks; i++)
        {
            await Task.Delay(_slowInterval, cancellationToken);
            await response.Body.WriteAsync(events[i], cancellationToken);
            await response.Body.FlushAsync(cancellationToken);
        }

        for (var i = chunks + 1; i < events.Length; i++)
        {
            await response.Body.WriteAsync(events[i], cancellationToken);
        }

        await response.Body.FlushAsync(cancellationToken);
    }

    /// <summary>Reads the whole body and reports whether it asks for a stream.</summary>
    private static async Task<bool> IsStreamingAsync(PipeReader reader, CancellationToken cancellationToken)
    {
        while (true)
        {
            var result = await reader.ReadAsync(cancellationToken);
            var buffer = result.Buffer;
            if (result.IsCompleted || result.IsCanceled)
            {
                var streaming = Contains(buffer);
                reader.AdvanceTo(buffer.End);
                return streaming;
            }

            reader.AdvanceTo(buffer.Start, buffer.End);
        }
    }

    private static bool Contains(ReadOnlySequence<byte> body)
    {
        var span = body.IsSingleSegment ? body.FirstSpan : body.ToArray().AsSpan();
        return span.IndexOf(StreamTrue) >= 0 || span.IndexOf(StreamTrueSpaced) >= 0;
    }
}
