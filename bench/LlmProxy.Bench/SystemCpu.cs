using System.Globalization;

namespace LlmProxy.Bench;

/// <summary>
/// Machine-wide busy CPU time from <c>/proc/stat</c> (Linux), to tell how much CPU processes outside the
/// benchmark used during a run: a busy neighbour makes every number noisier.
/// </summary>
internal static class SystemCpu
{
    private const double TicksPerSecond = 100; // USER_HZ, 100 on every Linux the .NET runtime supports

    /// <summary>Busy time of all processors together (everything but idle and iowait, steal included); null when unknown.</summary>
    public static TimeSpan? ReadBusy()
    {
        try
        {
            using var reader = new StreamReader("/proc/stat");
            var line = reader.ReadLine();
            if (line is null || !line.StartsWith("cpu ", StringComparison.Ordinal))
            {
                return null;
            }

            var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            long busy = 0;
            for (var i = 1; i < fields.Length && i <= 8; i++)
            {
                // user nice system idle iowait irq softirq steal
                if (i is 4 or 5)
                {
                    continue;
                }

                busy += long.Parse(fields[i], NumberStyles.Integer, CultureInfo.InvariantCulture);
            }

            return TimeSpan.FromSeconds(busy / TicksPerSecond);
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
        catch (FormatException)
        {
            return null;
        }
    }
}
