using System.Collections.Concurrent;
using LlmProxy.Telemetry;

namespace LlmProxy.IntegrationTests.Infrastructure;

/// <summary>Collects usage records; lets a test await them (they are written after the response ends).</summary>
public sealed class CapturingSink : IUsageSink
{
    private readonly ConcurrentQueue<UsageRecord> _records = new();
    private readonly SemaphoreSlim _arrived = new(0);

    public IReadOnlyCollection<UsageRecord> Records => _records;

    public void Record(UsageRecord record)
    {
        _records.Enqueue(record);
        _arrived.Release();
    }

    /// <summary>Waits for the next record.</summary>
    public async Task<UsageRecord> NextAsync()
    {
        Assert.True(await _arrived.WaitAsync(TimeSpan.FromSeconds(20)), "no usage record arrived");
        return _records.Last();
    }
}
