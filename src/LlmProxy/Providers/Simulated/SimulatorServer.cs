using System.Net;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;

namespace LlmProxy.Providers.Simulated;

/// <summary>
/// Hosts the simulated provider in-process on its own loopback port, started the first time a config names a
/// simulated provider. Each simulated provider is served under <c>/{provider}/v1</c>; its settings are read
/// from the current config on every request, so they hot-reload.
/// </summary>
internal sealed partial class SimulatorServer : IAsyncDisposable
{
    private readonly IServiceProvider _services;
    private readonly ILogger<SimulatorServer> _logger;
    private readonly Lock _lock = new();
    private WebApplication? _app;
    private string? _address;

    /// <summary>Creates the (not yet started) server.</summary>
    public SimulatorServer(IServiceProvider services, ILogger<SimulatorServer> logger)
    {
        _services = services;
        _logger = logger;
    }

    /// <summary>Starts the server once and returns its base address (<c>http://127.0.0.1:port</c>).</summary>
    public string EnsureStarted(int port)
    {
        lock (_lock)
        {
            if (_address is not null)
            {
                return _address;
            }

            var builder = WebApplication.CreateSlimBuilder();
            builder.Logging.ClearProviders();
            builder.WebHost.ConfigureKestrel(o => o.Listen(IPAddress.Loopback, port));
            builder.Services.AddSingleton(_services.GetRequiredService<TimeProvider>());
            builder.Services.AddSingleton<SimulatedSettingsSource>(new SimulatedSettingsSource(_services));
            var app = builder.Build();
            SimulatorEndpoints.Map(app);

            // Start-up of the gateway (or a config reload) is synchronous here; this runs once per process.
            app.StartAsync().GetAwaiter().GetResult();
            var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses;
            _address = addresses.First().Replace("localhost", "127.0.0.1", StringComparison.Ordinal).TrimEnd('/');
            _app = app;
            Log.Started(_logger, _address);
            return _address;
        }
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = Telemetry.EventIds.SimulatorStarted, Level = LogLevel.Information, Message = "Simulated provider listening on {Address}")]
        public static partial void Started(ILogger logger, string address);
    }
}
