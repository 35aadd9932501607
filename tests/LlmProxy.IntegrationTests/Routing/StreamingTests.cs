using System.Text;
using LlmProxy.IntegrationTests.Infrastructure;
using Microsoft.AspNetCore.Http;

namespace LlmProxy.IntegrationTests.Routing;

public sealed class StreamingTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(15);

    [Fact]
    public async Task Post_StreamTrue_ClientReceivesFirstEventBeforeUpstreamSendsSecond()
    {
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var upstream = await TestUpstream.StartAsync(async context =>
        {
            context.Response.ContentType = "text/event-stream";
            await context.Response.WriteAsync("data: {\"n\":1}\n\n");
            await context.Response.Body.FlushAsync();
            await gate.Task.WaitAsync(context.RequestAborted);
            await context.Response.WriteAsync("data: {\"n\":2}\n\ndata: [DONE]\n\n");
        });
        await using var app = TestConfig.SingleModel(upstream.Address + "/v1").Start();
        using var client = app.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions")
        {
            Content = new StringContent("""{"model":"test-model","stream":true}""", Encoding.UTF8, "application/json"),
        };

        using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead).WaitAsync(Patience);
        var reader = new StreamReader(await response.Content.ReadAsStreamAsync());

        // The upstream holds event 2 until the gate opens: a buffering gateway would never deliver event 1 here.
        var first = await reader.ReadLineAsync().WaitAsync(Patience);
        gate.SetResult();
        var rest = await reader.ReadToEndAsync().WaitAsync(Patience);

        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("data: {\"n\":1}", first);
        Assert.Equal("\ndata: {\"n\":2}\n\ndata: [DONE]\n\n", rest);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Post_ClientDisconnects_UpstreamRequestCancelled(bool stream)
    {
        var arrived = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var aborted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var upstream = await TestUpstream.StartAsync(async context =>
        {
            context.RequestAborted.Register(() => aborted.TrySetResult());
            if (stream)
            {
                context.Response.ContentType = "text/event-stream";
                await context.Response.WriteAsync("data: {\"n\":1}\n\n");
                await context.Response.Body.FlushAsync();
            }

            arrived.TrySetResult();
            await aborted.Task;
        });
        await using var app = TestConfig.SingleModel(upstream.Address + "/v1").Start();
        using var client = app.CreateClient();
        using var cancel = new CancellationTokenSource();
        var body = stream ? """{"model":"test-model","stream":true}""" : """{"model":"test-model"}""";
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions") { Content = new StringContent(body) };

        var sending = client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancel.Token);
        await arrived.Task.WaitAsync(Patience);
        HttpResponseMessage? response = null;
        if (stream)
        {
            response = await sending.WaitAsync(Patience);
            var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
            Assert.Equal("data: {\"n\":1}", await reader.ReadLineAsync().WaitAsync(Patience));
        }

        Assert.False(aborted.Task.IsCompleted);
        cancel.Cancel();
        response?.Dispose();

        await aborted.Task.WaitAsync(Patience);
        if (!stream)
        {
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => sending);
        }
    }

    [Theory]
    [InlineData(false, "upstream_unreachable")]
    [InlineData(true, "upstream_timeout")]
    public async Task Post_ProviderFailsMidStream_StreamEndsWithOpenAIErrorEvent(bool stall, string code)
    {
        var clientHasFirstEvent = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var upstream = await TestUpstream.StartAsync(async context =>
        {
            context.Response.ContentType = "text/event-stream";
            await context.Response.WriteAsync("data: {\"n\":1}\n\n");
            await context.Response.Body.FlushAsync();
            await clientHasFirstEvent.Task.WaitAsync(context.RequestAborted);
            if (stall)
            {
                await Task.Delay(Timeout.Infinite, context.RequestAborted).ContinueWith(static _ => { }, TaskScheduler.Default);
            }
            else
            {
                context.Abort();
            }
        });
        var config = TestConfig.SingleModel(upstream.Address + "/v1");
        if (stall)
        {
            config["models"]!["test-model"]!["timeout_seconds"] = 0.5;
        }

        await using var app = config.Start();
        using var client = app.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions") { Content = new StringContent("""{"model":"test-model","stream":true}""") };

        using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        var first = await reader.ReadLineAsync().WaitAsync(Patience);
        clientHasFirstEvent.SetResult();
        var rest = await reader.ReadToEndAsync().WaitAsync(Patience);

        Assert.Equal("data: {\"n\":1}", first);
        Assert.StartsWith("\n", rest, StringComparison.Ordinal);
        var events = rest[1..].Split("\n\n", StringSplitOptions.RemoveEmptyEntries);
        var errorEvent = Assert.Single(events);
        Assert.StartsWith("data: ", errorEvent, StringComparison.Ordinal);
        var error = System.Text.Json.JsonDocument.Parse(errorEvent["data: ".Length..]).RootElement.GetProperty("error");
        Assert.Equal(code, error.GetProperty("code").GetString());
        Assert.Equal("server_error", error.GetProperty("type").GetString());
        Assert.EndsWith("\n\n", rest, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("data: {\"id\":\"c\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hel\"},\"finish_reason\":null}]}\n\n")]
    [InlineData("data: {\"id\":\"c\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hel\"},\"finish_reason\":null}]}")]
    public async Task Post_ProviderClosesCleanlyWithoutFinishReason_StreamEndsWithErrorEventNotAsComplete(string sent)
    {
        await using var upstream = await TestUpstream.StartAsync(async context =>
        {
            context.Response.ContentType = "text/event-stream";
            await context.Response.WriteAsync(sent);
        });
        await using var app = TestConfig.SingleModel(upstream.Address + "/v1").Start();
        using var client = app.CreateClient();

        using var response = await client.PostAsync("/v1/chat/completions",
            new StringContent("""{"model":"test-model","stream":true,"stream_options":{"include_usage":true}}""", Encoding.UTF8, "application/json"));
        var text = await response.Content.ReadAsStringAsync().WaitAsync(Patience);

        Assert.Equal(200, (int)response.StatusCode);
        var events = text.Split("\n\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(2, events.Length);
        Assert.Contains("\"Hel\"", events[0], StringComparison.Ordinal);
        Assert.StartsWith("data: {\"error\":", events[1], StringComparison.Ordinal);
        Assert.Contains("\"code\":\"upstream_error\"", events[1], StringComparison.Ordinal);
        Assert.DoesNotContain("[DONE]", text, StringComparison.Ordinal);
        Assert.EndsWith("\n\n", text, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("\n\n")]
    [InlineData("")]
    public async Task Post_ProviderFinishesWithoutDone_StreamFinalisedWithDone(string lastBlankLine)
    {
        await using var upstream = await TestUpstream.StartAsync(async context =>
        {
            context.Response.ContentType = "text/event-stream";
            await context.Response.WriteAsync("data: {\"id\":\"c\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hi\"},\"finish_reason\":null}]}\n\n"
                + "data: {\"id\":\"c\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}" + lastBlankLine);
        });
        await using var app = TestConfig.SingleModel(upstream.Address + "/v1").Start();
        using var client = app.CreateClient();

        using var response = await client.PostAsync("/v1/chat/completions",
            new StringContent("""{"model":"test-model","stream":true,"stream_options":{"include_usage":true}}""", Encoding.UTF8, "application/json"));
        var text = await response.Content.ReadAsStringAsync().WaitAsync(Patience);

        Assert.EndsWith("\"finish_reason\":\"stop\"}]}\n\ndata: [DONE]\n\n", text, StringComparison.Ordinal);
        Assert.DoesNotContain("\"error\"", text, StringComparison.Ordinal);
    }
}
