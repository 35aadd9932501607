using LlmProxy.Configuration;
using LlmProxy.Errors;
using LlmProxy.Routing;
using LlmProxy.Telemetry;
using LlmProxy.Usage;
using Microsoft.Net.Http.Headers;
using Yarp.ReverseProxy.Transforms;

namespace LlmProxy.StructuredOutput;

/// <summary>
/// A non-streamed answer whose request carried schemas: read whole (the verdict goes in a header, before the body),
/// metered, validated, then sent as it came with <c>x-llmproxy-validation</c> (annotate), or replaced by a 422
/// <c>structured_output_invalid</c> listing the violations (reject). Under retry the provider is asked again (same
/// target) until an answer fits or the attempts run out, then it is rejected. Usage of every attempt is metered; the
/// body returned is the last answer, with its own <c>usage</c>.
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
        RequestMeter? meter, TimeProvider time, LlmProxyMetrics metrics, ILogger logger)
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
            metrics.ValidationResult(feature.Model?.Name ?? feature.Request.Model, Verdict.Skipped, expectation.Policy);
            await PassThroughAsync(body, stream, http.Response.Body, meter, time, context.CancellationToken);
            return;
        }

        UsageSum? earlier = null;
        var verdict = AnswerValidator.Validate(body, expectation);
        var model = feature.Model?.Name ?? feature.Request.Model;
        var attempts = 1;
        if (verdict.Result == Verdict.Failed && expectation.Policy == StructuredOutputPolicies.Retry && feature.Target is { } target)
        {
            while (verdict.Result == Verdict.Failed && attempts < expectation.MaxAttempts)
            {
                metrics.ValidationResult(model, verdict.Result, expectation.Policy);
                Log.Failed(logger, meter?.RequestId ?? "-", model, expectation.Policy, verdict.Violations.Count, verdict.Describe());
                metrics.ValidationRetry(model);
                attempts++;
                (target, var again) = await RetrySender.TryNextAsync(http, feature, target, expectation, body, verdict);
                if (again is null)
                {
                    // The retry could not be made or failed: the answer we have stays, invalid.
                    break;
                }

                (earlier ??= new UsageSum()).Add(body);
                body = again;
                verdict = AnswerValidator.Validate(body, expectation);
            }

            http.Response.Headers[AttemptsHeader] = attempts.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        if (meter is not null)
        {
            // Every attempt is metered; ids and model come from the answer returned.
            meter.UpstreamEnd = time.GetTimestamp();
            UsageReader.ReadBodyFast(body, meter);
            earlier?.AddTo(meter);
        }

        metrics.ValidationResult(model, verdict.Result, expectation.Policy);
        if (verdict.Result == Verdict.Failed)
        {
            Log.Failed(logger, meter?.RequestId ?? "-", model, expectation.Policy, verdict.Violations.Count, verdict.Describe());
        }

        http.Response.Headers[Header] = verdict.Result;
        if (verdict.Result == Verdict.Failed && expectation.Policy != StructuredOutputPolicies.Annotate)
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
    private static async Task PassThroughAsync(byte[] head, Stream rest, Stream client, RequestMeter? meter, TimeProvider time, CancellationToken cancellationToken)
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

        if (meter is not null)
        {
            meter.UpstreamEnd = time.GetTimestamp();
            UsageReader.ReadLastUsage(tail.AsSpan(0, kept), meter);
        }
    }

    // Usage of the attempts before the answer returned.
    private sealed class UsageSum
    {
        private long _input;
        private long _output;
        private long _cached;
        private long _reasoning;
        private bool _any;

        public void Add(byte[] body)
        {
            var attempt = new RequestMeter("attempt", 0) { CaptureDetails = false };
            UsageReader.ReadBodyFast(body, attempt);
            if (attempt.InputTokens is { } input && attempt.OutputTokens is { } output)
            {
                _any = true;
                _input += input;
                _output += output;
                _cached += attempt.CachedInputTokens;
                _reasoning += attempt.ReasoningTokens;
            }
        }

        public void AddTo(RequestMeter meter)
        {
            if (_any)
            {
                meter.SetUsage((meter.InputTokens ?? 0) + _input, (meter.OutputTokens ?? 0) + _output, meter.CachedInputTokens + _cached,
                    meter.ReasoningTokens + _reasoning);
            }
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = EventIds.ValidationFailed, Level = LogLevel.Information,
            Message = "request {RequestId} model={Model} policy={Policy}: the answer broke its schema ({Count} violations): {Violations}")]
        public static partial void Failed(ILogger logger, string requestId, string model, string policy, int count, string violations);
    }
}
