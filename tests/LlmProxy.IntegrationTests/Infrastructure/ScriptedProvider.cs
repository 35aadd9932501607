using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace LlmProxy.IntegrationTests.Infrastructure;

/// <summary>
/// An OpenAI-compatible provider on real Kestrel that plays one fault per request, in order (the last one repeats):
/// an answer, an error status with its headers, a connection reset before any byte, or silence until the gateway gives up.
/// It records when each request arrived and what it carried.
/// </summary>
public sealed class ScriptedProvider : IAsyncDisposable
{
    private readonly ConcurrentQueue<Func<HttpContext, Task>> _script = new();
    private readonly ConcurrentQueue<(TimeSpan At, string Body)> _received = new();
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly string _model;
    private TestUpstream _upstream = null!;
    private Func<HttpContext, Task>? _last;

    private ScriptedProvider(string model) => _model = model;

    /// <summary>The provider's base URL for the config (<c>…/v1</c>).</summary>
    public string BaseUrl => _upstream.Address + "/v1";

    /// <summary>The requests received, in order: when (since the provider started) and the body.</summary>
    public IReadOnlyList<(TimeSpan At, string Body)> Received => [.. _received];

    /// <summary>Starts a provider whose answers name <paramref name="model"/>.</summary>
    public static async Task<ScriptedProvider> StartAsync(string model = "upstream-model")
    {
        var provider = new ScriptedProvider(model);
        provider._upstream = await TestUpstream.StartAsync(provider.HandleAsync);
        return provider;
    }

    /// <summary>Answers with a chat completion (a stream when the request asks for one).</summary>
    public ScriptedProvider ThenAnswer(string content = "Hello there.")
        => Then(context => AnswerAsync(context, content));

    /// <summary>Answers with an error status, an OpenAI-shaped body and optional headers.</summary>
    public ScriptedProvider ThenError(int status, string? code = null, string message = "scripted failure", params (string Name, string Value)[] headers)
        => Then(async context =>
        {
            context.Response.StatusCode = status;
            foreach (var (name, value) in headers)
            {
                context.Response.Headers[name] = value;
            }

            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync(JsonSerializer.Serialize(new { error = new { message, type = "invalid_request_error", param = (string?)null, code } }));
        });

    /// <summary>Streams <paramref name="pieces"/> and then dies: the connection is reset (or, with <paramref name="reset"/> false, closed cleanly) with no finish reason.</summary>
    public ScriptedProvider ThenStreamCut(bool reset, params string[] pieces) => Then(async context =>
    {
        await StreamPiecesAsync(context, pieces);
        if (reset)
        {
            context.Abort();
        }
    });

    /// <summary>Streams <paramref name="pieces"/> and then goes silent until the gateway gives up.</summary>
    public ScriptedProvider ThenStreamStall(params string[] pieces) => Then(async context =>
    {
        await StreamPiecesAsync(context, pieces);
        try
        {
            await Task.Delay(Timeout.Infinite, context.RequestAborted);
        }
        catch (OperationCanceledException)
        {
            // The gateway gave up, as it should.
        }
    });

    /// <summary>Streams <paramref name="opening"/> (when given), then one piece every <paramref name="interval"/>, without end, until the gateway gives up (a provider that trickles).</summary>
    public ScriptedProvider ThenStreamTrickle(TimeSpan interval, string? opening = null) => Then(async context =>
    {
        try
        {
            if (opening is not null)
            {
                await StreamPiecesAsync(context, [opening]);
            }

            while (!context.RequestAborted.IsCancellationRequested)
            {
                await StreamPiecesAsync(context, ["tick "]);
                await Task.Delay(interval, context.RequestAborted);
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException)
        {
            // The gateway gave up, as it should.
        }
    });

    /// <summary>Refuses a request whose last message is the assistant's (a prefill) with a 400; answers others with <paramref name="content"/>.</summary>
    public ScriptedProvider ThenRefusePrefillElseAnswer(string content) => Then(async context =>
    {
        var messages = JsonDocument.Parse((string)context.Items["body"]!).RootElement.GetProperty("messages");
        if (messages[messages.GetArrayLength() - 1].GetProperty("role").GetString() == "assistant")
        {
            context.Response.StatusCode = 400;
            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync("""{"error":{"message":"This model does not support assistant message prefill.","type":"invalid_request_error","param":null,"code":null}}""");
            return;
        }

        await AnswerAsync(context, content);
    });

    /// <summary>
    /// Answers as a provider that honours a prefill: when the last message is the assistant's and <paramref name="canonical"/>
    /// starts with it, only the rest of <paramref name="canonical"/>; otherwise the whole of it.
    /// </summary>
    public ScriptedProvider ThenContinue(string canonical) => Then(context =>
    {
        var messages = JsonDocument.Parse((string)context.Items["body"]!).RootElement.GetProperty("messages");
        var last = messages[messages.GetArrayLength() - 1];
        var prefill = last.GetProperty("role").GetString() == "assistant" ? last.GetProperty("content").GetString() ?? "" : "";
        return AnswerAsync(context, prefill.Length > 0 && canonical.StartsWith(prefill, StringComparison.Ordinal) ? canonical[prefill.Length..] : canonical);
    });

    /// <summary>Streams <paramref name="pieces"/> with an invalid event as event number <paramref name="position"/>, then finishes normally.</summary>
    public ScriptedProvider ThenStreamWithMalformedEvent(int position, params string[] pieces) => Then(async context =>
    {
        await StreamPiecesAsync(context, pieces[..(position - 1)]);
        await context.Response.WriteAsync("data: {\"id\":\"broken\",\"choices\":[{\"delta\":{\"content\":\"lost\n\n");
        await StreamPiecesAsync(context, pieces[(position - 1)..]);
        await FinishStreamAsync(context);
    });

    /// <summary>Streams <paramref name="pieces"/> and a finish reason and usage, then closes without <c>data: [DONE]</c>.</summary>
    public ScriptedProvider ThenStreamWithoutDone(params string[] pieces) => Then(async context =>
    {
        await StreamPiecesAsync(context, pieces);
        await FinishStreamAsync(context, done: false);
    });

    /// <summary>Resets the connection before any response byte.</summary>
    public ScriptedProvider ThenReset() => Then(context =>
    {
        context.Abort();
        return Task.CompletedTask;
    });

    /// <summary>Accepts the request and never answers (until the gateway cancels it).</summary>
    public ScriptedProvider ThenSilence() => Then(async context =>
    {
        try
        {
            await Task.Delay(Timeout.Infinite, context.RequestAborted);
        }
        catch (OperationCanceledException)
        {
            // The gateway gave up, as it should.
        }
    });

    /// <summary>Answers after <paramref name="delay"/> (a slow but healthy provider).</summary>
    public ScriptedProvider ThenAnswerAfter(TimeSpan delay, string content) => Then(async context =>
    {
        await Task.Delay(delay, context.RequestAborted);
        await AnswerAsync(context, content);
    });

    /// <summary>A provider that flaps: <paramref name="status"/> until <paramref name="healthyAt"/> (since the provider started), then answers.</summary>
    public ScriptedProvider ThenErrorUntilThenAnswer(TimeSpan healthyAt, int status, string content) => Then(async context =>
    {
        if (_clock.Elapsed < healthyAt)
        {
            context.Response.StatusCode = status;
            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync(JsonSerializer.Serialize(new { error = new { message = "scripted outage", type = "server_error", param = (string?)null, code = (string?)null } }));
            return;
        }

        await AnswerAsync(context, content);
    });

    /// <summary>Time since the provider started (the clock of <see cref="Received"/>).</summary>
    public TimeSpan Elapsed => _clock.Elapsed;

    /// <summary>Adds a step.</summary>
    public ScriptedProvider Then(Func<HttpContext, Task> step)
    {
        _script.Enqueue(step);
        return this;
    }

    /// <inheritdoc/>
    public ValueTask DisposeAsync() => _upstream.DisposeAsync();

    private async Task HandleAsync(HttpContext context)
    {
        using var reader = new StreamReader(context.Request.Body, Encoding.UTF8);
        var body = await reader.ReadToEndAsync();
        _received.Enqueue((_clock.Elapsed, body));
        context.Items["body"] = body;
        var step = _script.TryDequeue(out var next) ? _last = next : _last;
        await (step ?? (c => AnswerAsync(c, "Hello there.")))(context);
    }

    private async Task StreamPiecesAsync(HttpContext context, string[] pieces)
    {
        if (!context.Response.HasStarted)
        {
            context.Response.ContentType = "text/event-stream";
            // The headers go at once, as a provider's do.
            await context.Response.Body.FlushAsync();
        }
        foreach (var piece in pieces)
        {
            await context.Response.WriteAsync("data: " + JsonSerializer.Serialize(new
            {
                id = "chatcmpl-" + _model,
                @object = "chat.completion.chunk",
                created = 1,
                model = _model,
                choices = new[] { new { index = 0, delta = new { content = piece }, finish_reason = (string?)null } },
            }) + "\n\n");
            await context.Response.Body.FlushAsync();
        }
    }

    private async Task AnswerAsync(HttpContext context, string content)
    {
        var request = JsonDocument.Parse((string)context.Items["body"]!).RootElement;
        var stream = request.TryGetProperty("stream", out var s) && s.ValueKind == JsonValueKind.True;
        if (!stream)
        {
            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync(JsonSerializer.Serialize(new
            {
                id = "chatcmpl-" + _model,
                @object = "chat.completion",
                created = 1,
                model = _model,
                choices = new[] { new { index = 0, message = new { role = "assistant", content }, finish_reason = "stop" } },
                usage = new { prompt_tokens = 10, completion_tokens = 5, total_tokens = 15 },
            }));
            return;
        }

        context.Response.ContentType = "text/event-stream";
        foreach (var piece in new[] { content[..(content.Length / 2)], content[(content.Length / 2)..] })
        {
            await context.Response.WriteAsync("data: " + JsonSerializer.Serialize(new
            {
                id = "chatcmpl-" + _model,
                @object = "chat.completion.chunk",
                created = 1,
                model = _model,
                choices = new[] { new { index = 0, delta = new { content = piece }, finish_reason = (string?)null } },
            }) + "\n\n");
            await context.Response.Body.FlushAsync();
        }

        await FinishStreamAsync(context);
    }

    private async Task FinishStreamAsync(HttpContext context, bool done = true)
    {
        await context.Response.WriteAsync("data: " + JsonSerializer.Serialize(new
        {
            id = "chatcmpl-" + _model,
            @object = "chat.completion.chunk",
            created = 1,
            model = _model,
            choices = new[] { new { index = 0, delta = new { }, finish_reason = "stop" } },
        }) + "\n\n");
        await context.Response.WriteAsync("data: {\"id\":\"chatcmpl-" + _model + "\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"" + _model
            + "\",\"choices\":[],\"usage\":{\"prompt_tokens\":10,\"completion_tokens\":5,\"total_tokens\":15}}\n\n" + (done ? "data: [DONE]\n\n" : ""));
    }
}
