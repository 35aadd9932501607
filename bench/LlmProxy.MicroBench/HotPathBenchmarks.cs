using System.Text;
using BenchmarkDotNet.Attributes;
using LlmProxy.Configuration;
using LlmProxy.Hosting;
using LlmProxy.Providers;
using LlmProxy.RateLimiting;
using LlmProxy.Routing;
using LlmProxy.Usage;

namespace LlmProxy.MicroBench;

/// <summary>Per-request pieces of metering and rate limiting on a 1 KB request and a 1 KB answer.</summary>
[MemoryDiagnoser]
public class HotPathBenchmarks
{
    private byte[] _request = null!;
    private byte[] _answer = null!;
    private byte[] _uniquePrompt = null!;
    private readonly TokenEstimator _estimator = new();
    private readonly ModelNameTable _modelNames = new();
    private GatewaySnapshot _snapshot = null!;

    [GlobalSetup]
    public void Setup()
    {
        var text = string.Concat(Enumerable.Repeat("Summarize the quarterly report in three bullet points please. ", 14));
        _request = Encoding.UTF8.GetBytes("{\"model\":\"bench-model\",\"messages\":[{\"role\":\"system\",\"content\":\"You are a helpful assistant.\"},{\"role\":\"user\",\"content\":\"" + text + "\"}]}");
        _answer = Encoding.UTF8.GetBytes("{\"id\":\"chatcmpl-1\",\"object\":\"chat.completion\",\"created\":1,\"model\":\"bench-upstream-model\",\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":\"" + new string('a', 800) + "\"},\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":200,\"completion_tokens\":180,\"total_tokens\":380}}");
        _uniquePrompt = _request;
        var config = ConfigFile.Parse("{}", out var error) ?? throw new InvalidOperationException(error);
        _snapshot = new SnapshotBuilder(new ProviderAdapters([]), TimeProvider.System).Build(config, 1).Snapshot!;
    }

    [Benchmark]
    public bool ParseRequest() => LlmRequestParser.TryParse(_request, out _) == LlmRequestParser.Failure.None;

    [Benchmark]
    public long ReadUsageFromAnswer()
    {
        var meter = new LlmRequestFeature(_snapshot, "r", 1) { Metered = true, CaptureDetails = false, ModelNames = _modelNames };
        UsageReader.ReadBodyFast(_answer, meter);
        return meter.OutputTokens ?? 0;
    }

    [Benchmark]
    public long CountPromptTokensCached() => _estimator.Count(_request, "gpt-4o", true, 4096).Prompt;

    [Benchmark]
    public int CountPromptTokensUncached() => _estimator.For("gpt-4o").CountTokens(Encoding.UTF8.GetString(_uniquePrompt));
}
