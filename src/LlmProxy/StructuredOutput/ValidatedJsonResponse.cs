using LlmProxy.Configuration;
using LlmProxy.Errors;
using LlmProxy.Hosting;
using LlmProxy.Telemetry;
using LlmProxy.Usage;
using Microsoft.Net.Http.Headers;
using Yarp.ReverseProxy.Transforms;

namespace LlmProxy.StructuredOutput;

/// <summary>
/// A non-streamed answer whose request carried schemas: read whole (the verdict goes in a header, before the body),
/// metered, validated, then sent as it came with <c>x-llmproxy-validation</c> (annotate), or replaced by a 422
/// <c>structured_output_invalid</c> listing the violations (reject). Under retry a failed answer is recorded for the
/// attempt loop (<see cref="Failover.AttemptMiddleware"/>), which asks again, until an answer fits or the attempts run
/// out; then it is rejected. The body returned is the last answer, with its own <c>usage</c>.
/// </summary>
internal static partial class ValidatedJsonResponse
{
    /// <summary>The verdict header.</summary>
    public const string Header = "x-llmproxy-validation";

    /// <summary>Under <c>retry</c>: how many answers were asked for.</summary>
    public const string AttemptsHeader = "x-llmproxy-validation-attempts";

    /// <summary>Largest answer validated; a larger one passes through as skipped.</summary>
    public const int MaxBytes = 16 * 1024 * 1024;

    public static async ValueTask ApplyAsync(ResponseTransformContext context, LlmRequestFeature feature, OutputExpectation expectation,
        TimeProvider time, LlmProxyMetrics metrics, ILogger logger)
    {
        var http = context.HttpContext;
        var content = context.ProxyResponse!.Content;
        await using var stream = await content.ReadAsStreamAsync(context.CancellationToken);
        var (body, complete) = await ReadAsync(stream, content.Headers.ContentLength, context.CancellationToken);
        context.SuppressResponseBody = true;
        http.Response.Headers.Remove(HeaderNames.ContentLength);
        if (!complete)
        {
            // Too large to check: it goes through as it comes, unchecked, and is metered by its tail like any large body.
            http.Response.Headers[Header] = Verdict.Skipped;
            metrics.ValidationResult(feature.Model?.Name ?? feature.Request.Model, Verdict.Skipped, expectation.Policy.Name());
            await PassThroughAsync(body, stream, http.Response.Body, feature, time, context.CancellationToken);
            return;
        }

        var verdict = AnswerValidator.Validate(body, expectation);
        var model = feature.Model?.Name ?? feature.Request.Model;
        if (feature.Metered)
        {
            // Every attempt is metered (the attempt loop adds up their usage); ids and model come from the answer returned.
            feature.UpstreamEnd = time.GetTimestamp();
            UsageReader.ReadBodyFast(body, feature);
        }

        metrics.ValidationResult(model, verdict.Result, expectation.Policy.Name());
        if (verdict.Result == Verdict.Failed)
        {
            Log.Failed(logger, feature.RequestId, model, expectation.Policy.Name(), verdict.Violations.Count, verdict.Describe());
            if (expectation.Policy == StructuredOutputPolicy.Retry)
            {
                if (feature.AnswersAsked < expectation.MaxAttempts && feature.Target is not null)
                {
                    // Nothing is written: the attempt loop asks again.
                    feature.RetryWanted = new InvalidAnswer(body, verdict.Violations);
                    return;
                }

                http.Response.Headers[AttemptsHeader] = feature.AnswersAsked.ToString(System.Globalization.CultureInfo.InvariantCulture);
            }
        }

        http.Response.Headers[Header] = verdict.Result;
        if (verdict.Result == Verdict.Failed && expectation.Policy != StructuredOutputPolicy.Annotate)
        {
            await ErrorWriter.WriteAsync(http, LlmError.StructuredOutputInvalid,
                $"The model's answer does not match the schema of the request: {verdict.Describe()}", "response_format");
            return;
        }

        http.Response.ContentLength = body.Length;
        await http.Response.Body.WriteAsync(body, context.CancellationToken);
    }

    // The whole body when it is at most MaxBytes; otherwise what was read so far and false.
    private static async Task<(byte[] Body, bool Complete)> ReadAsync(Stream stream, long? length, CancellationToken cancellationToken)
    {
        if (length > MaxBytes)
        {
            return ([], false);
        }

        using var buffer = new MemoryStream(length is { } known ? (int)known : 4096);
        var chunk = new byte[16 * 1024];
        int read;
        while ((read = await stream.ReadAsync(chunk, cancellationToken)) > 0)
        {
            buffer.Write(chunk, 0, read);
            if (buffer.Length > MaxBytes)
            {
                return (buffer.ToArray(), false);
            }
        }

        return (buffer.ToArray(), true);
    }

    // Writes what was read and the rest of the provider's body, keeping the last bytes for the usage block.
    private static async Task PassThroughAsync(byte[] head, Stream rest, Stream client, LlmRequestFeature feature, TimeProvider time, CancellationToken cancellationToken)
    {
        await client.WriteAsync(head, cancellationToken);
        var tail = new byte[MeteredJsonContent.TailBytes];
        var kept = MeteredJsonContent.KeepTail(tail, 0, head);
        var chunk = new byte[16 * 1024];
        int read;
        while ((read = await rest.ReadAsync(chunk, cancellationToken)) > 0)
        {
            await client.WriteAsync(chunk.AsMemory(0, read), cancellationToken);
            kept = MeteredJsonContent.KeepTail(tail, kept, chunk.AsSpan(0, read));
        }

        if (feature.Metered)
        {
            feature.UpstreamEnd = time.GetTimestamp();
            UsageReader.ReadLastUsage(tail.AsSpan(0, kept), feature);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = EventIds.ValidationFailed, Level = LogLevel.Information,
            Message = "request {RequestId} model={Model} policy={Policy}: the answer broke its schema ({Count} violations): {Violations}")]
        public static partial void Failed(ILogger logger, string requestId, string model, string policy, int count, string violations);
    }
}
