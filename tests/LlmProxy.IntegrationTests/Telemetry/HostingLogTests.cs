using LlmProxy.IntegrationTests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace LlmProxy.IntegrationTests.Telemetry;

/// <summary>
/// ASP.NET Core starts an Activity for every request while its hosting log category is enabled at any level; with tracing
/// off the gateway switches that category off (unless it is configured by name), so requests start no Activity.
/// </summary>
public sealed class HostingLogTests
{
    private const string Category = "Microsoft.AspNetCore.Hosting.Diagnostics";

    [Fact]
    public async Task HostingLog_TracingOff_SwitchedOff()
    {
        await using var app = GatewayApp.Start(TestConfig.SingleModel("http://127.0.0.1:9/v1").ToJsonString(), minimumLevel: LogLevel.Trace);

        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger(Category);

        Assert.False(logger.IsEnabled(LogLevel.Critical));
        Assert.True(app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("LlmProxy.Telemetry").IsEnabled(LogLevel.Information));
    }

    [Fact]
    public async Task HostingLog_ConfiguredByName_KeptAsConfigured()
    {
        await using var app = GatewayApp.Start(TestConfig.SingleModel("http://127.0.0.1:9/v1").ToJsonString(),
            settings: new Dictionary<string, string> { [$"Logging:LogLevel:{Category}"] = "Information" });

        Assert.True(app.Services.GetRequiredService<ILoggerFactory>().CreateLogger(Category).IsEnabled(LogLevel.Information));
    }

    [Fact]
    public async Task HostingLog_TracingOn_Kept()
    {
        await using var app = GatewayApp.Start(TestConfig.SingleModel("http://127.0.0.1:9/v1").ToJsonString(),
            settings: new Dictionary<string, string> { ["OTEL_EXPORTER_OTLP_ENDPOINT"] = "http://127.0.0.1:9" });

        Assert.True(app.Services.GetRequiredService<ILoggerFactory>().CreateLogger(Category).IsEnabled(LogLevel.Warning));
    }
}
