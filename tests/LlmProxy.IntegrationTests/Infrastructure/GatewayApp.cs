using System.Net.Http.Headers;
using LlmProxy.Configuration;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Yarp.ReverseProxy.Configuration;

namespace LlmProxy.IntegrationTests.Infrastructure;

/// <summary>The real gateway (Program) on Kestrel at a loopback port, with a route config in a temp folder.</summary>
public sealed class GatewayApp : IAsyncDisposable
{
    private readonly WebApplicationFactory<Program> _factory;
    private readonly DirectoryInfo? _ownedDirectory;

    private GatewayApp(WebApplicationFactory<Program> factory, DirectoryInfo? ownedDirectory, string configPath)
    {
        _factory = factory;
        _ownedDirectory = ownedDirectory;
        ConfigPath = configPath;
        var addresses = factory.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses;
        BaseAddress = new Uri(addresses.First().Replace("[::]", "127.0.0.1", StringComparison.Ordinal).TrimEnd('/') + "/");
    }

    /// <summary>The config file the gateway watches.</summary>
    public string ConfigPath { get; }

    /// <summary>http://127.0.0.1:port/</summary>
    public Uri BaseAddress { get; }

    /// <summary>The gateway's services.</summary>
    public IServiceProvider Services => _factory.Services;

    /// <summary>Everything the gateway logged.</summary>
    public FakeLogCollector Logs => Services.GetRequiredService<FakeLogCollector>();

    /// <summary>Starts the gateway with this config text (and host settings, such as OTEL_EXPORTER_OTLP_ENDPOINT).</summary>
    public static GatewayApp Start(string configJson, Action<IServiceCollection>? configureServices = null, LogLevel minimumLevel = LogLevel.Information,
        IReadOnlyDictionary<string, string>? settings = null)
    {
        var directory = Directory.CreateTempSubdirectory("llmproxy-test-");
        var path = Path.Combine(directory.FullName, "llmproxy.json");
        File.WriteAllText(path, configJson);
        return StartWithPath(path, directory, configureServices, minimumLevel, settings);
    }

    /// <summary>Starts the gateway on an existing config file (for example the repository's default config).</summary>
    public static GatewayApp StartWithPath(string path, DirectoryInfo? owned = null, Action<IServiceCollection>? configureServices = null, LogLevel minimumLevel = LogLevel.Information,
        IReadOnlyDictionary<string, string>? settings = null)
    {
        var factory = new WebApplicationFactory<Program>().WithWebHostBuilder(builder =>
        {
            builder.UseEnvironment("Testing");
            builder.UseSetting(ConfigFile.PathSetting, path);
            builder.UseSetting("Urls", "http://127.0.0.1:0");
            foreach (var (name, value) in settings ?? new Dictionary<string, string>())
            {
                builder.UseSetting(name, value);
            }
            builder.ConfigureLogging(logging => logging.AddFakeLogging().SetMinimumLevel(minimumLevel).AddFilter(static _ => true));
            builder.ConfigureServices(services => services.AddSingleton<ConfigAppliedListener>()
                .AddSingleton<IConfigChangeListener>(sp => sp.GetRequiredService<ConfigAppliedListener>()));
            if (configureServices is not null)
            {
                builder.ConfigureServices(configureServices);
            }
        });
        factory.UseKestrel(0);
        try
        {
            factory.StartServer();
        }
        catch
        {
            factory.Dispose();
            throw;
        }

        return new GatewayApp(factory, owned, path);
    }

    /// <summary>A client for the gateway, with a bearer key when given.</summary>
    public HttpClient CreateClient(string? key = TestKeys.Alpha)
    {
        var client = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
        if (key is not null)
        {
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        }

        return client;
    }

    /// <summary>
    /// Waits until <c>/health/ready</c> answers <paramref name="status"/> (for example until the gateway's Redis
    /// connection, made in the background at start-up, is up). Polls: the gateway reconnects on its own schedule.
    /// </summary>
    public async Task WaitUntilReadyIsAsync(string status = "Healthy")
    {
        using var client = CreateClient(key: null);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            using var ready = await client.GetAsync("/health/ready");
            if (await ready.Content.ReadAsStringAsync() == status)
            {
                return;
            }

            Assert.True(DateTime.UtcNow < deadline, $"/health/ready did not become {status}");
            await Task.Delay(50);
        }
    }

    /// <summary>Awaits YARP applying a config revision.</summary>
    public ConfigAppliedListener Applied => Services.GetRequiredService<ConfigAppliedListener>();

    /// <summary>The config store (to await reloads).</summary>
    public ConfigStore Store => Services.GetRequiredService<ConfigStore>();

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        await _factory.DisposeAsync();
        if (_ownedDirectory is not null)
        {
            try
            {
                _ownedDirectory.Delete(recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }
}
