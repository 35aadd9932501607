using System.Diagnostics.Tracing;
using Microsoft.Diagnostics.NETCore.Client;
using Microsoft.Diagnostics.Tracing;
using Microsoft.Diagnostics.Tracing.Parsers;
using Microsoft.Diagnostics.Tracing.Parsers.Clr;

namespace LlmProxy.Bench;

/// <summary>
/// Forces a full blocking garbage collection in another .NET process, from outside, and reads its GC heap afterwards, as
/// dotnet-gcdump does: an EventPipe session on the process's diagnostics port (<see cref="DiagnosticsClient"/>) with the
/// runtime provider's <c>GC</c> and <c>GCHeapCollect</c> keywords at Informational level. Enabling <c>GCHeapCollect</c>
/// makes the runtime induce a blocking gen-2 collection; the session then delivers its <c>GCStart</c>, <c>GCEnd</c> and
/// the <c>GCHeapStats</c> that follows, whose generation sizes are the heap after that collection.
/// </summary>
internal static class GcHeap
{
    private const string RuntimeProvider = "Microsoft-Windows-DotNETRuntime";
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    /// <summary>Induces the collection in process <paramref name="processId"/> and returns its heap after it.</summary>
    public static async Task<GcHeapSizes> CollectAsync(int processId, CancellationToken cancellationToken)
    {
        var client = new DiagnosticsClient(processId);
        EventPipeProvider[] providers =
        [
            new(RuntimeProvider, EventLevel.Informational, (long)(ClrTraceEventParser.Keywords.GC | ClrTraceEventParser.Keywords.GCHeapCollect)),
        ];
        EventPipeSession session;
        try
        {
            session = await client.StartEventPipeSessionAsync(providers, requestRundown: false, circularBufferMB: 64, cancellationToken);
        }
        catch (ServerNotAvailableException ex)
        {
            throw new BenchFailure($"could not open the diagnostics port of process {processId} (DOTNET_EnableDiagnostics=0?): {ex.Message}", ex);
        }

        using (session)
        {
            var heap = new TaskCompletionSource<GcHeapSizes>(TaskCreationOptions.RunContinuationsAsynchronously);
            using var source = new EventPipeEventSource(session.EventStream);
            int? induced = null;
            var ended = false;
            // Every event arrives on the thread that runs Process, in order: GCStart, ..., GCEnd, GCHeapStats.
            source.Clr.GCStart += e =>
            {
                if (induced is null && e.Depth == 2 && e.Type != GCType.BackgroundGC)
                {
                    induced = e.Count;
                }
            };
            source.Clr.GCStop += e => ended |= induced == e.Count;
            source.Clr.GCHeapStats += e =>
            {
                if (ended)
                {
                    heap.TrySetResult(new GcHeapSizes(e.GenerationSize0, e.GenerationSize1, e.GenerationSize2, e.GenerationSize3, e.GenerationSize4));
                }
            };
            var processing = Task.Run(() =>
            {
                source.Process();
                heap.TrySetException(new BenchFailure($"the event stream of process {processId} ended before the induced collection's heap statistics"));
            }, CancellationToken.None);
            try
            {
                return await heap.Task.WaitAsync(Timeout, cancellationToken);
            }
            catch (TimeoutException ex)
            {
                throw new BenchFailure($"process {processId} reported no induced full collection within {Timeout.TotalSeconds:0} s", ex);
            }
            finally
            {
                try
                {
                    await session.StopAsync(CancellationToken.None);
                }
                catch (ServerNotAvailableException)
                {
                    // the process is gone
                }
                catch (EndOfStreamException)
                {
                    // the session was already closed
                }

                await processing.WaitAsync(Timeout, CancellationToken.None);
            }
        }
    }
}
