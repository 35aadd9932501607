using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using LlmProxy.IntegrationTests.Infrastructure;
using Microsoft.AspNetCore.Http;

namespace LlmProxy.IntegrationTests.Providers;

/// <summary>What of the client's request reaches a provider: an allow-list of headers, and never the client's query string.</summary>
public sealed class RequestBoundaryTests
{
    private const string Chat = """{"model":"test-model","messages":[{"role":"user","content":"hi"}]}""";

    // What a provider may receive; anything else came from the client and must not have passed.
    private static readonly HashSet<string> Allowed = new(StringComparer.OrdinalIgnoreCase)
    {
        "Host", "Content-Type", "Content-Length", "User-Agent", "Authorization", "api-key", "Accept", "OpenAI-Beta", "traceparent", "tracestate",
    };

    [Fact]
    public async Task Post_ClientForwardingHeadersQueryAndControls_NoneReachTheProvider()
    {
        var seen = new ConcurrentQueue<Received>();
        await using var upstream = await TestUpstream.StartAsync(context => Record(context, seen));
        await using var app = TestConfig.SingleModel(upstream.Address + "/v1").Start();
        var request = "POST /v1/chat/completions?api_key=" + TestKeys.Alpha + "&foo=bar HTTP/1.1\r\n"
            + "Host: gateway.example\r\n"
            + "Authorization: Bearer " + TestKeys.Alpha + "\r\n"
            + "Content-Type: application/json\r\n"
            + "Content-Length: " + Encoding.UTF8.GetByteCount(Chat) + "\r\n"
            + "Connection: keep-alive, X-Secret\r\n"
            + "X-Secret: hop-by-hop\r\n"
            + "X-Forwarded-For: 203.0.113.7\r\n"
            + "X-Forwarded-Host: app.example\r\n"
            + "X-Forwarded-Proto: https\r\n"
            + "X-Real-IP: 203.0.113.7\r\n"
            + "Forwarded: for=203.0.113.7;proto=https\r\n"
            + "Via: 1.1 ingress\r\n"
            + "Cookie: session=abc\r\n"
            + "x-llmproxy-validation-policy: annotate\r\n"
            + "X-Stainless-OS: Linux\r\n"
            + "OpenAI-Organization: org-client\r\n"
            + "Accept: application/json\r\n"
            + "OpenAI-Beta: assistants=v2\r\n"
            + "\r\n" + Chat;

        var status = await RawStatusAsync(app.BaseAddress, request);

        Assert.Equal(200, status);
        var received = Assert.Single(seen);
        Assert.Equal("", received.Query);
        Assert.DoesNotContain(received.Headers.Keys, name => !Allowed.Contains(name));
        Assert.Equal("application/json", received.Headers["Accept"]);
        Assert.Equal("assistants=v2", received.Headers["OpenAI-Beta"]);
        Assert.Equal("Bearer " + TestKeys.ProviderSecret, received.Headers["Authorization"]);
        Assert.DoesNotContain(received.Headers.Values, v => v.Contains("203.0.113.7", StringComparison.Ordinal) || v.Contains(TestKeys.Alpha, StringComparison.Ordinal));
    }

    // Kestrel keeps the Connection header's names only when it names no keep-alive/close/upgrade (then it keeps just
    // that token); names it drops cannot be honoured, which the allow-list makes harmless: what it forwards is not secret.
    [Fact]
    public async Task Post_AllowedHeaderNamedInConnection_NotForwarded()
    {
        var seen = new ConcurrentQueue<Received>();
        await using var upstream = await TestUpstream.StartAsync(context => Record(context, seen));
        await using var app = TestConfig.SingleModel(upstream.Address + "/v1").Start();
        var request = "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + TestKeys.Alpha + "\r\n"
            + "Content-Type: application/json\r\nContent-Length: " + Encoding.UTF8.GetByteCount(Chat) + "\r\n"
            + "Connection: OpenAI-Beta\r\nOpenAI-Beta: hop\r\nAccept: application/json\r\n\r\n" + Chat;

        var status = await RawStatusAsync(app.BaseAddress, request);

        Assert.Equal(200, status);
        var received = Assert.Single(seen);
        Assert.False(received.Headers.ContainsKey("OpenAI-Beta"));
        Assert.Equal("application/json", received.Headers["Accept"]);
    }

    [Fact]
    public async Task Post_AzureClientSendsItsOwnQuery_OnlyTheConfiguredApiVersionReachesAzure()
    {
        var seen = new ConcurrentQueue<Received>();
        await using var upstream = await TestUpstream.StartAsync(context => Record(context, seen));
        await using var app = TestConfig.SingleModel(upstream.Address, type: "azure-openai", apiVersion: "2024-10-21").Start();
        using var client = app.CreateClient();

        using var response = await client.PostAsync("/v1/chat/completions?api-version=1999-01-01&api_key=" + TestKeys.Alpha,
            new StringContent(Chat, Encoding.UTF8, "application/json"));

        Assert.Equal(200, (int)response.StatusCode);
        Assert.Equal("?api-version=2024-10-21", Assert.Single(seen).Query);
    }

    [Fact]
    public async Task Binary_StartedFromAnotherFolder_LogsNeitherRequestUrlsNorTheClientsQuery()
    {
        await using var upstream = await TestUpstream.StartAsync(context => Record(context, new ConcurrentQueue<Received>()));
        var folder = Directory.CreateTempSubdirectory("llmproxy-cwd-");
        try
        {
            var configPath = Path.Combine(folder.FullName, "gateway.json");
            File.WriteAllText(configPath, TestConfig.SingleModel(upstream.Address + "/v1").ToJsonString());
            var port = RedisServer.FreePort();
            var start = new ProcessStartInfo("dotnet")
            {
                ArgumentList = { GatewayBinary() },
                WorkingDirectory = folder.FullName,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
                Environment =
                {
                    ["LLMPROXY_CONFIG"] = configPath,
                    ["ASPNETCORE_URLS"] = $"http://127.0.0.1:{port}",
                    [TestKeys.ProviderSecretVariable] = TestKeys.ProviderSecret,
                    ["DOTNET_ENVIRONMENT"] = "Production",
                    ["ASPNETCORE_ENVIRONMENT"] = "Production",
                },
            };
            var output = new ConcurrentQueue<string>();
            using var process = Process.Start(start)!;
            process.OutputDataReceived += (_, e) => output.Enqueue(e.Data ?? "");
            process.ErrorDataReceived += (_, e) => output.Enqueue(e.Data ?? "");
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            try
            {
                using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}/"), Timeout = TimeSpan.FromSeconds(10) };
                client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", TestKeys.Alpha);
                await WaitUntilListeningAsync(client, process, output);

                using var response = await client.PostAsync("/v1/chat/completions?api_key=sk-in-the-query-123",
                    new StringContent(Chat, Encoding.UTF8, "application/json"));

                Assert.Equal(200, (int)response.StatusCode);
            }
            finally
            {
                process.Kill();
                await process.WaitForExitAsync();
            }

            var log = string.Join('\n', output);
            Assert.Contains("Now listening", log, StringComparison.Ordinal);
            Assert.DoesNotContain("sk-in-the-query", log, StringComparison.Ordinal);
            Assert.DoesNotContain("Request starting", log, StringComparison.Ordinal);
            Assert.DoesNotContain("/v1/chat/completions", log, StringComparison.Ordinal);
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }

    private static async Task Record(HttpContext context, ConcurrentQueue<Received> seen)
    {
        seen.Enqueue(new Received(context.Request.QueryString.Value ?? "",
            context.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase)));
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync("""{"id":"c1","object":"chat.completion","choices":[]}""");
    }

    // The gateway's own build output, the way an operator starts the binary (same configuration as these tests).
    private static string GatewayBinary()
    {
        var configuration = AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Debug{Path.DirectorySeparatorChar}", StringComparison.Ordinal) ? "Debug" : "Release";
        var path = Path.Combine(RepoPaths.Root, "src", "LlmProxy", "bin", configuration, "net10.0", "LlmProxy.dll");
        Assert.True(File.Exists(path), "the gateway is not built at " + path);
        return path;
    }

    private static async Task WaitUntilListeningAsync(HttpClient client, Process process, ConcurrentQueue<string> output)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            Assert.False(process.HasExited, "the gateway exited: " + string.Join('\n', output));
            try
            {
                using var live = await client.GetAsync("/health/live");
                if (live.StatusCode == HttpStatusCode.OK)
                {
                    return;
                }
            }
            catch (HttpRequestException) when (deadline.Elapsed < TimeSpan.FromSeconds(30))
            {
            }

            Assert.True(deadline.Elapsed < TimeSpan.FromSeconds(30), "the gateway did not start: " + string.Join('\n', output));
            await Task.Delay(100);
        }
    }

    private static async Task<int> RawStatusAsync(Uri baseAddress, string request)
    {
        using var socket = new TcpClient();
        await socket.ConnectAsync(baseAddress.Host, baseAddress.Port);
        var stream = socket.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes(request));
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var buffer = new byte[4096];
        var received = new StringBuilder();
        while (!received.ToString().Contains("\r\n", StringComparison.Ordinal))
        {
            var read = await stream.ReadAsync(buffer, timeout.Token);
            Assert.True(read > 0, "the connection closed before a status line arrived");
            received.Append(Encoding.ASCII.GetString(buffer, 0, read));
        }

        return int.Parse(received.ToString().Split(' ', 3)[1], System.Globalization.CultureInfo.InvariantCulture);
    }

    private sealed record Received(string Query, Dictionary<string, string> Headers);
}
