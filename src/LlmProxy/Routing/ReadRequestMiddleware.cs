using System.Buffers;
using LlmProxy.Errors;
using LlmProxy.Hosting;
using LlmProxy.Telemetry;
using Microsoft.AspNetCore.Http.Features;
using Yarp.ReverseProxy.Forwarder;

namespace LlmProxy.Routing;

/// <summary>
/// Stage 2: buffers the body (up to the configured limit, else 413) into a pooled array and reads
/// <c>model</c> and <c>stream</c> from it (malformed JSON or a missing model: 400).
/// </summary>
internal sealed class ReadRequestMiddleware
{
    // Without Content-Length (chunked) the first buffer is this large; with it, the announced length plus the one byte
    // that lets the read after the body return 0 without growing the buffer (an open stream keeps the body for
    // failover, so a 1 KB body holds a 2 KB array, not a 4 KB one).
    private const int UnknownLengthBuffer = 4096;

    // The first buffer is sized from Content-Length but never larger than this: a client that announces a large
    // body and sends it slowly must not pin memory it has not sent.
    private const int MaximumFirstBuffer = 64 * 1024;
    private readonly RequestDelegate _next;

    public ReadRequestMiddleware(RequestDelegate next) => _next = next;

    public async Task Invoke(HttpContext context)
    {
        var feature = context.Features.GetRequiredFeature<LlmRequestFeature>();
        var limit = feature.Snapshot.MaxRequestBodyBytes;
        var request = context.Request;
        if (request.ContentLength > limit)
        {
            await RejectTooLarge(context, limit);
            return;
        }

        // The gateway enforces its own limit so the client gets an OpenAI-shaped 413.
        var sizeFeature = context.Features.Get<IHttpMaxRequestBodySizeFeature>();
        if (sizeFeature is { IsReadOnly: false })
        {
            sizeFeature.MaxRequestBodySize = null;
        }

        var buffer = ArrayPool<byte>.Shared.Rent(request.ContentLength is { } announced ? (int)Math.Min(announced + 1, MaximumFirstBuffer) : UnknownLengthBuffer);
        var returnBuffer = true;
        try
        {
            var length = 0;
            while (true)
            {
                if (length == buffer.Length)
                {
                    // The limit is at most 1 GiB (validated), so doubling stays within an int.
                    var larger = ArrayPool<byte>.Shared.Rent((int)Math.Min(limit + 1, (long)buffer.Length * 2));
                    buffer.AsSpan(0, length).CopyTo(larger);
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = larger;
                }

                // Read at most one byte past the limit: enough to know the body is too large.
                var room = (int)Math.Min(buffer.Length - length, limit + 1 - length);
                var read = await request.Body.ReadAsync(buffer.AsMemory(length, room), context.RequestAborted);
                if (read == 0)
                {
                    break;
                }

                length += read;
                if (length > limit)
                {
                    break;
                }
            }

            if (length > limit)
            {
                await RejectTooLarge(context, limit);
                return;
            }

            var failure = LlmRequestParser.TryParse(buffer.AsSpan(0, length), out var info, out var param);
            if (failure != LlmRequestParser.Failure.None)
            {
                await WriteParseError(context, failure, param);
                return;
            }

            feature.Body = new ArraySegment<byte>(buffer, 0, length);
            if (feature.CaptureBodies)
            {
                // Opt-in Debug logging of prompts: copy now, the buffer goes back to the pool before the log line.
                feature.PromptText = System.Text.Encoding.UTF8.GetString(buffer, 0, Math.Min(length, RequestLogSink.MaxBodyChars));
            }

            feature.Request = info;
            feature.OperationPath = OperationPathOf(request.Path.Value);
            await _next(context);

            // Only a cleanly finished upstream exchange is sure to be done with the buffer.
            returnBuffer = context.Features.Get<IForwarderErrorFeature>() is null;
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            returnBuffer = false;
        }
        catch (BadHttpRequestException ex)
        {
            await ErrorWriter.WriteAsync(context, ex.StatusCode == 413 ? LlmError.RequestTooLarge : LlmError.InvalidJson, "The request body could not be read.");
        }
        catch (IOException)
        {
            // Kestrel reports some malformed framings (a chunk size that overflows) as an IOException, not a bad request.
            await ErrorWriter.WriteAsync(context, LlmError.InvalidJson, "The request body could not be read: its HTTP framing is malformed.");
        }
        finally
        {
            if (returnBuffer)
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }
    }

    // The forwarded routes are fixed: map them to constant strings rather than slicing a new one per request.
    private static string OperationPathOf(string? path) => path switch
    {
        "/v1/chat/completions" => "/chat/completions",
        "/v1/completions" => "/completions",
        "/v1/embeddings" => "/embeddings",
        "/v1/responses" => "/responses",
        { Length: > 3 } other => other[3..].TrimEnd('/'),
        _ => "",
    };

    private static Task RejectTooLarge(HttpContext context, long limit)
        => ErrorWriter.WriteAsync(context, LlmError.RequestTooLarge, $"The request body is larger than this gateway's limit of {limit} bytes.");

    private static Task WriteParseError(HttpContext context, LlmRequestParser.Failure failure, string? param) => failure switch
    {
        LlmRequestParser.Failure.MissingModel => ErrorWriter.WriteAsync(context, LlmError.InvalidRequest, "you must provide a model parameter", "model"),
        LlmRequestParser.Failure.InvalidModel => ErrorWriter.WriteAsync(context, LlmError.InvalidRequest, "'model' must be a non-empty string and appear once.", "model"),
        LlmRequestParser.Failure.InvalidStream => ErrorWriter.WriteAsync(context, LlmError.InvalidRequest, "'stream' must be a boolean.", "stream"),
        LlmRequestParser.Failure.DuplicateProperty => ErrorWriter.WriteAsync(context, LlmError.InvalidRequest,
            $"'{ErrorText.Clip(param)}' appears more than once in the request body; send each property once.", ErrorText.Clip(param)),
        _ => ErrorWriter.WriteAsync(context, LlmError.InvalidJson,
            "We could not parse the JSON body of your request. The gateway expects a JSON object with a 'model' field, "
            + $"valid UTF-8 text without lone surrogate escapes, nested at most {LlmRequestParser.MaxDepth} levels deep."),
    };
}
