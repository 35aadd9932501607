using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using LlmProxy.Configuration;
using LlmProxy.Errors;

namespace LlmProxy.Providers.Simulated;

/// <summary>
/// The simulated provider's OpenAI-compatible API: chat completions, completions, embeddings, responses and
/// models, streamed or not, with configurable latency and injected errors.
/// </summary>
internal static class SimulatorEndpoints
{
    /// <summary>Most inputs one embeddings request may carry (OpenAI's limit).</summary>
    public const int MaxEmbeddingInputs = 2048;

    /// <summary>The longest embedding vector (OpenAI's largest, text-embedding-3-large).</summary>
    public const int MaxEmbeddingDimensions = 3072;

    private static readonly byte[] DoneEvent = "data: [DONE]\n\n"u8.ToArray();

    /// <summary>Maps the endpoints under <c>/{provider}/v1</c>.</summary>
    public static void Map(WebApplication app)
    {
        var group = app.MapGroup("/{provider}/v1");
        group.MapPost("/chat/completions", (HttpContext c, string provider) => Handle(c, provider, ChatAsync));
        group.MapPost("/completions", (HttpContext c, string provider) => Handle(c, provider, CompletionsAsync));
        group.MapPost("/embeddings", (HttpContext c, string provider) => Handle(c, provider, EmbeddingsAsync));
        group.MapPost("/responses", (HttpContext c, string provider) => Handle(c, provider, ResponsesAsync));
        group.MapGet("/models", (HttpContext c, string provider) => ModelsAsync(c, provider));
    }

    private delegate Task Operation(HttpContext context, JsonObject request, SimulationSettings settings, TimeProvider time);

    private static async Task Handle(HttpContext context, string provider, Operation operation)
    {
        var settings = context.RequestServices.GetRequiredService<SimulatedSettingsSource>().Get(provider);
        if (settings is null)
        {
            await WriteError(context, 404, "invalid_request_error", "not_found", $"No simulated provider '{provider}'.");
            return;
        }

        if (settings.ErrorRate > 0 && Random.Shared.NextDouble() < settings.ErrorRate)
        {
            if (settings.RetryAfterSeconds is { } retryAfter)
            {
                context.Response.Headers.RetryAfter = retryAfter.ToString(CultureInfo.InvariantCulture);
            }

            var rateLimited = settings.ErrorStatus == 429;
            await WriteError(context, settings.ErrorStatus, rateLimited ? "requests" : "server_error",
                rateLimited ? "rate_limit_exceeded" : "server_error", $"Simulated error (HTTP {settings.ErrorStatus}).");
            return;
        }

        JsonObject? request;
        try
        {
            request = await JsonNode.ParseAsync(context.Request.Body, cancellationToken: context.RequestAborted) as JsonObject;
        }
        catch (JsonException)
        {
            request = null;
        }

        if (request is null)
        {
            await WriteError(context, 400, "invalid_request_error", null, "We could not parse the JSON body of your request.");
            return;
        }

        var time = context.RequestServices.GetRequiredService<TimeProvider>();
        try
        {
            await operation(context, request, settings, time);
        }
        catch (Exception ex) when (ex is InvalidOperationException or FormatException or OverflowException or ArgumentException or JsonException)
        {
            // A field of an unexpected type or size: answer like a provider would, never with a 500.
            if (context.Response.HasStarted)
            {
                context.Abort();
                return;
            }

            await WriteError(context, 400, "invalid_request_error", null, "The simulated provider could not read a field of the request: " + ex.Message);
        }
    }

    private static async Task ChatAsync(HttpContext context, JsonObject request, SimulationSettings settings, TimeProvider time)
    {
        var model = (string?)request["model"] ?? "simulated";
        var promptTokens = SimulatedText.PromptTokens(request["messages"]);
        var (tokens, finish) = Answer(SimulatedText.PromptOf(request["messages"]), request, settings);
        var id = "chatcmpl-sim" + SimulatedText.Seed(model + tokens.Length).ToString("x", CultureInfo.InvariantCulture);
        var created = time.GetUtcNow().ToUnixTimeSeconds();
        var ct = context.RequestAborted;

        if (!IsStream(request))
        {
            await Task.Delay(TotalDelay(settings, tokens.Length), time, ct);
            var response = new JsonObject
            {
                ["id"] = id,
                ["object"] = "chat.completion",
                ["created"] = created,
                ["model"] = model,
                ["choices"] = new JsonArray(new JsonObject
                {
                    ["index"] = 0,
                    ["message"] = new JsonObject { ["role"] = "assistant", ["content"] = string.Concat(tokens), ["refusal"] = null },
                    ["logprobs"] = null,
                    ["finish_reason"] = finish,
                }),
                ["usage"] = ChatUsage(promptTokens, tokens.Length),
                ["system_fingerprint"] = "fp_simulated",
            };
            await WriteJson(context, response);
            return;
        }

        var includeUsage = request["stream_options"]?["include_usage"]?.GetValueKind() == JsonValueKind.True;
        StartStream(context);
        await Task.Delay(TimeSpan.FromMilliseconds(settings.TtftMs), time, ct);
        await WriteEvent(context, ChatChunk(id, created, model, new JsonObject { ["role"] = "assistant", ["content"] = "" }, null, includeUsage));
        for (var i = 0; i < tokens.Length; i++)
        {
            if (i > 0)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(settings.InterTokenMs), time, ct);
            }

            await WriteEvent(context, ChatChunk(id, created, model, new JsonObject { ["content"] = tokens[i] }, null, includeUsage));
        }

        await WriteEvent(context, ChatChunk(id, created, model, new JsonObject(), finish, includeUsage));
        if (includeUsage)
        {
            var usageChunk = ChatChunk(id, created, model, null, null, includeUsage: false);
            usageChunk["choices"] = new JsonArray();
            usageChunk["usage"] = ChatUsage(promptTokens, tokens.Length);
            await WriteEvent(context, usageChunk);
        }

        await context.Response.Body.WriteAsync(DoneEvent, ct);
        await context.Response.Body.FlushAsync(ct);
    }

    private static async Task CompletionsAsync(HttpContext context, JsonObject request, SimulationSettings settings, TimeProvider time)
    {
        var model = (string?)request["model"] ?? "simulated";
        var prompt = SimulatedText.PromptOf(request["prompt"]);
        var promptTokens = SimulatedText.CountTokens(prompt);
        var (tokens, finish) = Answer(prompt, request, settings);
        var id = "cmpl-sim" + SimulatedText.Seed(prompt).ToString("x", CultureInfo.InvariantCulture);
        var created = time.GetUtcNow().ToUnixTimeSeconds();
        var ct = context.RequestAborted;

        if (!IsStream(request))
        {
            await Task.Delay(TotalDelay(settings, tokens.Length), time, ct);
            await WriteJson(context, new JsonObject
            {
                ["id"] = id,
                ["object"] = "text_completion",
                ["created"] = created,
                ["model"] = model,
                ["choices"] = new JsonArray(new JsonObject { ["index"] = 0, ["text"] = string.Concat(tokens), ["logprobs"] = null, ["finish_reason"] = finish }),
                ["usage"] = ChatUsage(promptTokens, tokens.Length),
            });
            return;
        }

        StartStream(context);
        await Task.Delay(TimeSpan.FromMilliseconds(settings.TtftMs), time, ct);
        for (var i = 0; i < tokens.Length; i++)
        {
            if (i > 0)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(settings.InterTokenMs), time, ct);
            }

            await WriteEvent(context, new JsonObject
            {
                ["id"] = id,
                ["object"] = "text_completion",
                ["created"] = created,
                ["model"] = model,
                ["choices"] = new JsonArray(new JsonObject { ["index"] = 0, ["text"] = tokens[i], ["logprobs"] = null, ["finish_reason"] = i == tokens.Length - 1 ? finish : null }),
            });
        }

        if (request["stream_options"]?["include_usage"]?.GetValueKind() == JsonValueKind.True)
        {
            await WriteEvent(context, new JsonObject
            {
                ["id"] = id,
                ["object"] = "text_completion",
                ["created"] = created,
                ["model"] = model,
                ["choices"] = new JsonArray(),
                ["usage"] = ChatUsage(promptTokens, tokens.Length),
            });
        }

        await context.Response.Body.WriteAsync(DoneEvent, ct);
        await context.Response.Body.FlushAsync(ct);
    }

    private static async Task EmbeddingsAsync(HttpContext context, JsonObject request, SimulationSettings settings, TimeProvider time)
    {
        var inputs = new List<string>();
        switch (request["input"])
        {
            case JsonArray array:
                foreach (var item in array)
                {
                    inputs.Add(item is JsonValue value && value.TryGetValue<string>(out var text) ? text : item?.ToJsonString() ?? "");
                }

                break;
            case JsonNode node when node.GetValueKind() == JsonValueKind.String:
                inputs.Add((string)node!);
                break;
            default:
                await WriteError(context, 400, "invalid_request_error", null, "'input' must be a string or an array.");
                return;
        }

        if (inputs.Count > MaxEmbeddingInputs)
        {
            // OpenAI's own cap: without it 120 KB of short inputs would become a 60 MB answer.
            await WriteError(context, 400, "invalid_request_error", null,
                $"'input' must have at most {MaxEmbeddingInputs} items; it has {inputs.Count}.", "input");
            return;
        }

        var dimensions = request["dimensions"]?.GetValueKind() == JsonValueKind.Number ? (int)request["dimensions"]! : settings.EmbeddingDimensions;
        if (dimensions is < 1 or > MaxEmbeddingDimensions)
        {
            await WriteError(context, 400, "invalid_request_error", null,
                $"'dimensions' must be between 1 and {MaxEmbeddingDimensions}.", "dimensions");
            return;
        }

        var base64 = (string?)request["encoding_format"] == "base64";
        await Task.Delay(TimeSpan.FromMilliseconds(settings.TtftMs), time, context.RequestAborted);

        // Written as it is made, a vector at a time: the largest answer (2,048 × 3,072 floats) never sits in memory whole.
        context.Response.ContentType = "application/json";
        await using var writer = new Utf8JsonWriter(context.Response.BodyWriter);
        writer.WriteStartObject();
        writer.WriteString("object", "list");
        writer.WriteStartArray("data");
        var promptTokens = 0;
        for (var i = 0; i < inputs.Count; i++)
        {
            var vector = SimulatedText.Embedding(inputs[i], dimensions);
            promptTokens += SimulatedText.CountTokens(inputs[i]);
            writer.WriteStartObject();
            writer.WriteString("object", "embedding");
            writer.WriteNumber("index", i);
            if (base64)
            {
                writer.WriteString("embedding", SimulatedText.ToBase64(vector));
            }
            else
            {
                writer.WriteStartArray("embedding");
                foreach (var value in vector)
                {
                    writer.WriteNumberValue(value);
                }

                writer.WriteEndArray();
            }

            writer.WriteEndObject();
            if (writer.BytesPending > 64 * 1024)
            {
                await writer.FlushAsync(context.RequestAborted);
            }
        }

        writer.WriteEndArray();
        writer.WriteString("model", (string?)request["model"] ?? "simulated");
        writer.WriteStartObject("usage");
        writer.WriteNumber("prompt_tokens", promptTokens);
        writer.WriteNumber("total_tokens", promptTokens);
        writer.WriteEndObject();
        writer.WriteEndObject();
        await writer.FlushAsync(context.RequestAborted);
    }

    private static async Task ResponsesAsync(HttpContext context, JsonObject request, SimulationSettings settings, TimeProvider time)
    {
        var model = (string?)request["model"] ?? "simulated";
        var input = request["input"];
        var prompt = input is JsonArray ? SimulatedText.PromptOf(input) : SimulatedText.PromptOf(input);
        var inputTokens = SimulatedText.CountTokens(prompt + (string?)request["instructions"]);
        var maxTokens = request["max_output_tokens"]?.GetValueKind() == JsonValueKind.Number ? (int)request["max_output_tokens"]! : settings.DefaultMaxTokens;
        var count = Math.Clamp(Math.Min(maxTokens, settings.DefaultMaxTokens), 1, 4096);
        var tokens = SimulatedText.Tokens(prompt, count);
        var id = "resp_sim" + SimulatedText.Seed(prompt).ToString("x", CultureInfo.InvariantCulture);
        var created = time.GetUtcNow().ToUnixTimeSeconds();
        var ct = context.RequestAborted;
        JsonObject Response(string status, string text) => new()
        {
            ["id"] = id,
            ["object"] = "response",
            ["created_at"] = created,
            ["status"] = status,
            ["model"] = model,
            ["output"] = status == "completed"
                ? new JsonArray(new JsonObject
                {
                    ["type"] = "message",
                    ["id"] = "msg_" + id,
                    ["status"] = "completed",
                    ["role"] = "assistant",
                    ["content"] = new JsonArray(new JsonObject { ["type"] = "output_text", ["text"] = text, ["annotations"] = new JsonArray() }),
                })
                : new JsonArray(),
            ["usage"] = status == "completed"
                ? new JsonObject
                {
                    ["input_tokens"] = inputTokens,
                    ["input_tokens_details"] = new JsonObject { ["cached_tokens"] = 0 },
                    ["output_tokens"] = tokens.Length,
                    ["output_tokens_details"] = new JsonObject { ["reasoning_tokens"] = 0 },
                    ["total_tokens"] = inputTokens + tokens.Length,
                }
                : null,
        };

        if (!IsStream(request))
        {
            await Task.Delay(TotalDelay(settings, tokens.Length), time, ct);
            await WriteJson(context, Response("completed", string.Concat(tokens)));
            return;
        }

        StartStream(context);
        var sequence = 0;
        await WriteNamedEvent(context, "response.created", new JsonObject { ["type"] = "response.created", ["sequence_number"] = sequence++, ["response"] = Response("in_progress", "") });
        await Task.Delay(TimeSpan.FromMilliseconds(settings.TtftMs), time, ct);
        for (var i = 0; i < tokens.Length; i++)
        {
            if (i > 0)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(settings.InterTokenMs), time, ct);
            }

            await WriteNamedEvent(context, "response.output_text.delta", new JsonObject
            {
                ["type"] = "response.output_text.delta",
                ["sequence_number"] = sequence++,
                ["item_id"] = "msg_" + id,
                ["output_index"] = 0,
                ["content_index"] = 0,
                ["delta"] = tokens[i],
            });
        }

        await WriteNamedEvent(context, "response.completed", new JsonObject { ["type"] = "response.completed", ["sequence_number"] = sequence, ["response"] = Response("completed", string.Concat(tokens)) });
    }

    private static Task ModelsAsync(HttpContext context, string provider)
    {
        var source = context.RequestServices.GetRequiredService<SimulatedSettingsSource>();
        if (source.Get(provider) is null)
        {
            return WriteError(context, 404, "invalid_request_error", "not_found", $"No simulated provider '{provider}'.");
        }

        var data = new JsonArray();
        foreach (var model in source.ModelsOf(provider))
        {
            data.Add(new JsonObject { ["id"] = model, ["object"] = "model", ["created"] = 0, ["owned_by"] = "simulated" });
        }

        return WriteJson(context, new JsonObject { ["object"] = "list", ["data"] = data });
    }

    private static (string[] Tokens, string Finish) Answer(string prompt, JsonObject request, SimulationSettings settings)
    {
        var requested = request["max_completion_tokens"] ?? request["max_tokens"];
        if (requested?.GetValueKind() == JsonValueKind.Number && (int)requested < settings.DefaultMaxTokens)
        {
            return (SimulatedText.Tokens(prompt, Math.Max(1, (int)requested)), "length");
        }

        return (SimulatedText.Tokens(prompt, settings.DefaultMaxTokens), "stop");
    }

    private static TimeSpan TotalDelay(SimulationSettings settings, int tokens)
        => TimeSpan.FromMilliseconds(settings.TtftMs + ((double)settings.InterTokenMs * Math.Max(0, tokens - 1)));

    private static bool IsStream(JsonObject request) => request["stream"]?.GetValueKind() == JsonValueKind.True;

    private static JsonObject ChatUsage(int prompt, int completion) => new()
    {
        ["prompt_tokens"] = prompt,
        ["completion_tokens"] = completion,
        ["total_tokens"] = prompt + completion,
        ["prompt_tokens_details"] = new JsonObject { ["cached_tokens"] = 0, ["audio_tokens"] = 0 },
        ["completion_tokens_details"] = new JsonObject { ["reasoning_tokens"] = 0, ["audio_tokens"] = 0, ["accepted_prediction_tokens"] = 0, ["rejected_prediction_tokens"] = 0 },
    };

    private static JsonObject ChatChunk(string id, long created, string model, JsonObject? delta, string? finish, bool includeUsage)
    {
        var chunk = new JsonObject
        {
            ["id"] = id,
            ["object"] = "chat.completion.chunk",
            ["created"] = created,
            ["model"] = model,
            ["system_fingerprint"] = "fp_simulated",
            ["choices"] = delta is null
                ? new JsonArray()
                : new JsonArray(new JsonObject { ["index"] = 0, ["delta"] = delta, ["logprobs"] = null, ["finish_reason"] = finish }),
        };
        if (includeUsage)
        {
            chunk["usage"] = null;
        }

        return chunk;
    }

    private static void StartStream(HttpContext context)
    {
        context.Response.StatusCode = 200;
        context.Response.Headers.ContentType = "text/event-stream";
        context.Response.Headers.CacheControl = "no-cache";
    }

    private static async Task WriteEvent(HttpContext context, JsonObject data)
    {
        var bytes = Encoding.UTF8.GetBytes("data: " + data.ToJsonString() + "\n\n");
        await context.Response.Body.WriteAsync(bytes, context.RequestAborted);
        await context.Response.Body.FlushAsync(context.RequestAborted);
    }

    private static async Task WriteNamedEvent(HttpContext context, string name, JsonObject data)
    {
        var bytes = Encoding.UTF8.GetBytes("event: " + name + "\ndata: " + data.ToJsonString() + "\n\n");
        await context.Response.Body.WriteAsync(bytes, context.RequestAborted);
        await context.Response.Body.FlushAsync(context.RequestAborted);
    }

    private static Task WriteJson(HttpContext context, JsonObject body)
    {
        context.Response.ContentType = "application/json";
        return context.Response.WriteAsync(body.ToJsonString(), context.RequestAborted);
    }

    private static Task WriteError(HttpContext context, int status, string type, string? code, string message, string? param = null)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        var body = ErrorWriter.Serialize(message, type, param, code);
        return context.Response.Body.WriteAsync(body, 0, body.Length, context.RequestAborted);
    }
}
