using System.Collections.Concurrent;
using HdrHistogram;
using LlmProxy.Configuration;

namespace LlmProxy.Telemetry;

/// <summary>
/// Per-model sliding windows for <c>/metrics/summary</c>: a ring of one-minute slots per model (windows are 1 to 60
/// minutes), each with HdrHistograms of total latency, time to first token and time per output token (microseconds,
/// two significant digits, up to ten minutes; the stream histograms only once a stream was seen), token and cost
/// sums, and errors by category. A query merges the slots inside the window, so percentiles are exact to the
/// histogram's precision, not a sample. Rings of models no longer configured are dropped at the next query.
/// </summary>
public sealed class SummaryStore : IUsageSink
{
    private const long HighestMicroseconds = 600_000_000;
    private const int Digits = 2;
    private const int SlotSeconds = 60;
    private const int Slots = 61;

    private readonly TimeProvider _time;
    private readonly ConfigStore _store;
    private readonly ConcurrentDictionary<string, ModelRing> _models = new(StringComparer.Ordinal);

    /// <summary>Creates the store.</summary>
    public SummaryStore(TimeProvider time, ConfigStore store)
    {
        _time = time;
        _store = store;
    }

    /// <summary>The configured windows, in minutes.</summary>
    public IReadOnlyList<int> Windows => _store.Current.Config.Telemetry.SummaryWindowsMinutes;

    /// <inheritdoc/>
    public void Record(UsageRecord record)
    {
        var model = record.Model ?? record.RequestModel;
        var ring = _models.GetOrAdd(model, static _ => new ModelRing(Slots));
        var slotIndex = _time.GetUtcNow().ToUnixTimeSeconds() / SlotSeconds;
        lock (ring)
        {
            ring.SlotFor(slotIndex).Add(record);
        }
    }

    /// <summary>The summary of the last <paramref name="windowMinutes"/> minutes.</summary>
    public SummaryDocument Summarize(int windowMinutes)
    {
        var newest = _time.GetUtcNow().ToUnixTimeSeconds() / SlotSeconds;
        long slots = windowMinutes;
        var configured = _store.Current.Models;
        var models = new SortedDictionary<string, ModelSummary>(StringComparer.Ordinal);
        foreach (var (name, ring) in _models)
        {
            if (name != "unknown" && !configured.ContainsKey(name))
            {
                _models.TryRemove(name, out _);
                continue;
            }

            var merged = new Slot();
            lock (ring)
            {
                ring.MergeInto(merged, newest - slots + 1, newest);
            }

            if (merged.Requests > 0)
            {
                models[name] = merged.ToSummary();
            }
        }

        return new SummaryDocument(windowMinutes, new LlmSummary(models));
    }

    private sealed class ModelRing(int length)
    {
        private readonly Slot?[] _slots = new Slot?[length];

        public Slot SlotFor(long index)
        {
            var position = (int)(index % _slots.Length);
            var slot = _slots[position] ??= new Slot();
            if (slot.Index != index)
            {
                slot.Reset(index);
            }

            return slot;
        }

        public void MergeInto(Slot target, long from, long to)
        {
            foreach (var slot in _slots)
            {
                if (slot is not null && slot.Index >= from && slot.Index <= to)
                {
                    target.Add(slot);
                }
            }
        }
    }

    private sealed class Slot
    {
        private readonly IntHistogram _total = NewHistogram();
        private IntHistogram? _firstToken;
        private IntHistogram? _perToken;
        private readonly Dictionary<string, long> _errors = new(StringComparer.Ordinal);

        public long Index { get; private set; } = -1;

        public long Requests { get; private set; }

        private long InputTokens { get; set; }

        private long OutputTokens { get; set; }

        private decimal Cost { get; set; }

        private long CostUnknown { get; set; }

        public void Reset(long index)
        {
            Index = index;
            Requests = InputTokens = OutputTokens = CostUnknown = 0;
            Cost = 0;
            _total.Reset();
            _firstToken?.Reset();
            _perToken?.Reset();
            _errors.Clear();
        }

        public void Add(UsageRecord record)
        {
            Requests++;
            _total.RecordValue(Microseconds(record.Duration));
            if (record.TimeToFirstToken is { } ttft)
            {
                (_firstToken ??= NewHistogram()).RecordValue(Microseconds(ttft));
            }

            if (record.TimePerOutputToken is { } perToken)
            {
                (_perToken ??= NewHistogram()).RecordValue(Microseconds(perToken));
            }

            if (record.Usage is { } usage)
            {
                InputTokens += usage.Input;
                OutputTokens += usage.Output;
                if (record.CostUsd is { } cost)
                {
                    Cost += cost;
                }
                else
                {
                    CostUnknown++;
                }
            }

            if (record.Error != ErrorCategory.None)
            {
                var name = record.Error.Name();
                _errors[name] = _errors.GetValueOrDefault(name) + 1;
            }
        }

        public void Add(Slot other)
        {
            Requests += other.Requests;
            InputTokens += other.InputTokens;
            OutputTokens += other.OutputTokens;
            Cost += other.Cost;
            CostUnknown += other.CostUnknown;
            _total.Add(other._total);
            if (other._firstToken is { TotalCount: > 0 })
            {
                (_firstToken ??= NewHistogram()).Add(other._firstToken);
            }

            if (other._perToken is { TotalCount: > 0 })
            {
                (_perToken ??= NewHistogram()).Add(other._perToken);
            }
            foreach (var (name, count) in other._errors)
            {
                _errors[name] = _errors.GetValueOrDefault(name) + count;
            }
        }

        public ModelSummary ToSummary() => new(
            new TimingSummary(Stats(_total), Stats(_firstToken), Stats(_perToken)),
            new TokenSummary(InputTokens, OutputTokens),
            Math.Round(Cost, 8),
            CostUnknown,
            Requests,
            new SortedDictionary<string, long>(_errors, StringComparer.Ordinal));

        private static IntHistogram NewHistogram() => new(1, HighestMicroseconds, Digits);

        private static long Microseconds(double seconds) => Math.Clamp((long)Math.Round(seconds * 1_000_000), 1, HighestMicroseconds);

        private static LatencyStats? Stats(IntHistogram? histogram)
        {
            if (histogram is null || histogram.TotalCount == 0)
            {
                return null;
            }

            return new LatencyStats(
                Milliseconds(histogram.GetMean()),
                new Percentiles(
                    Milliseconds(histogram.GetValueAtPercentile(50)),
                    Milliseconds(histogram.GetValueAtPercentile(90)),
                    Milliseconds(histogram.GetValueAtPercentile(95)),
                    Milliseconds(histogram.GetValueAtPercentile(99))));
        }

        private static double Milliseconds(double microseconds) => Math.Round(microseconds / 1000, 3);
    }
}
