using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using StackExchange.Redis;

namespace LlmProxy.IntegrationTests.Infrastructure;

/// <summary>
/// A real redis-server process of the test's own (installed by test.sh), on a free loopback port, without
/// persistence. It can be stopped and started again on the same port to test outages.
/// </summary>
public sealed class RedisServer : IAsyncDisposable
{
    private Process? _process;
    private ConnectionMultiplexer? _client;

    private RedisServer(int port) => Port = port;

    /// <summary>The port.</summary>
    public int Port { get; }

    /// <summary>The StackExchange.Redis connection string.</summary>
    public string ConnectionString => $"127.0.0.1:{Port}";

    /// <summary>Starts a server on a free port.</summary>
    public static async Task<RedisServer> StartAsync()
    {
        var server = new RedisServer(FreePort());
        await server.StartAgainAsync();
        return server;
    }

    /// <summary>A port nothing listens on (for a gateway that starts while Redis is down).</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>Starts the process (again) and waits until it answers PING.</summary>
    public async Task StartAgainAsync()
    {
        var start = new ProcessStartInfo("redis-server")
        {
            ArgumentList = { "--port", Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no" },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        try
        {
            _process = Process.Start(start) ?? throw new InvalidOperationException("redis-server did not start");
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            throw new InvalidOperationException("redis-server is not installed: run ./test.sh, which installs it (apt-get install redis-server)", ex);
        }

        _process.OutputDataReceived += static (_, _) => { };
        _process.ErrorDataReceived += static (_, _) => { };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                using var probe = await ConnectionMultiplexer.ConnectAsync($"{ConnectionString},connectTimeout=500");
                await probe.GetDatabase().PingAsync();
                return;
            }
            catch (RedisConnectionException) when (deadline.Elapsed < TimeSpan.FromSeconds(10))
            {
                await Task.Yield();
            }
        }
    }

    /// <summary>Kills the process (an outage) and waits until it is gone.</summary>
    public async Task StopAsync()
    {
        if (_process is { HasExited: false } process)
        {
            process.Kill();
            await process.WaitForExitAsync();
        }
    }

    /// <summary>
    /// Makes Redis slow but healthy: it holds every client's commands (this one's after the pause included) for
    /// <paramref name="milliseconds"/>, then answers them all. The connections stay up.
    /// </summary>
    public Task PauseAsync(int milliseconds) => Database.ExecuteAsync("CLIENT", "PAUSE", milliseconds, "ALL");

    /// <summary>Freezes the process (SIGSTOP): connections stay open and nothing answers until <see cref="Thaw"/>.</summary>
    public void Freeze() => Signal("STOP");

    /// <summary>Resumes a frozen process (SIGCONT); harmless when it is not frozen.</summary>
    public void Thaw() => Signal("CONT");

    /// <summary>A client for inspecting keys.</summary>
    public IDatabase Database
    {
        get
        {
            _client ??= ConnectionMultiplexer.Connect($"{ConnectionString},abortConnect=false,allowAdmin=true");
            return _client.GetDatabase();
        }
    }

    /// <summary>
    /// What is in use in a limit bucket named by its store key (<c>{prefix}:key:alpha:requests:minute</c>), read from
    /// its field in the hash tag's buckets hash (stored as <c>used:ms</c>); null when absent.
    /// </summary>
    public async Task<double?> BucketUsedAsync(string key)
    {
        var tag = key.IndexOf('}', StringComparison.Ordinal) + 1;
        var value = (string?)await Database.HashGetAsync(key[..tag] + ":buckets", key[(tag + 1)..]);
        return value is null ? null : double.Parse(value[..value.IndexOf(':', StringComparison.Ordinal)], System.Globalization.CultureInfo.InvariantCulture);
    }

    private void Signal(string signal)
    {
        if (_process is { HasExited: false } process)
        {
            using var kill = Process.Start("kill", ["-" + signal, process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
            kill.WaitForExit();
        }
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        Thaw();
        _client?.Dispose();
        await StopAsync();
        _process?.Dispose();
    }
}
