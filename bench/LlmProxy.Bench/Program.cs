using System.Runtime.InteropServices;
using System.Text;
using LlmProxy.Bench;

// LlmProxy end-to-end benchmark. `run` drives the measurement; `upstream` and `yarp` are the servers it starts.
if (args.Length == 0 || args[0] is "-h" or "--help" or "help")
{
    Console.WriteLine(BenchOptions.Usage);
    return args.Length == 0 ? 2 : 0;
}

BenchOptions options;
try
{
    options = BenchOptions.Parse(args.AsSpan(1).ToArray());
}
catch (ArgumentException ex)
{
    Console.Error.WriteLine($"error: {ex.Message}");
    Console.Error.WriteLine(BenchOptions.Usage);
    return 2;
}

switch (args[0])
{
    case "upstream" when options.Port > 0:
        return await UpstreamMode.RunAsync(options.Port, options.OpenStreamsSeconds, options.OpenStreamsChunkSeconds);
    case "yarp" when options.Port > 0 && options.Upstream is not null:
        return await YarpMode.RunAsync(options.Port, options.Upstream);
    case "run":
        break;
    default:
        Console.Error.WriteLine($"error: unknown mode or missing options: {string.Join(' ', args)}");
        Console.Error.WriteLine(BenchOptions.Usage);
        return 2;
}

Console.OutputEncoding = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false);
using var cancellation = new CancellationTokenSource();

// Ctrl+C, SIGTERM, SIGHUP: stop measuring, kill the servers, exit. A second signal ends the process at once.
void OnSignal(PosixSignalContext context)
{
    if (!cancellation.IsCancellationRequested)
    {
        context.Cancel = true;
        cancellation.Cancel();
    }
}

using var onInterrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
using var onTerminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);
using var onHangUp = PosixSignalRegistration.Create(PosixSignal.SIGHUP, OnSignal);
AppDomain.CurrentDomain.ProcessExit += (_, _) => ChildProcess.KillAll();

try
{
    return await RunMode.RunAsync(options, cancellation.Token);
}
catch (OperationCanceledException) when (cancellation.IsCancellationRequested)
{
    Console.Error.WriteLine("cancelled");
    return 130;
}
catch (BenchFailure ex)
{
    Console.Error.WriteLine($"error: {ex.Message}");
    return 1;
}
finally
{
    ChildProcess.KillAll();
}
