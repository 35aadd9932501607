using System.Diagnostics;

namespace LlmProxy.Bench;

/// <summary>
/// A server the driver started (fake upstream, bare YARP or LlmProxy). Its output is drained into a short
/// buffer (shown when it fails), its CPU time can be read at any moment, and it is killed on dispose,
/// on Ctrl+C and when the driver exits.
/// </summary>
internal sealed class ChildProcess : IDisposable
{
    private const int KeptLines = 40;
    private static readonly List<ChildProcess> Running = [];

    private readonly Process _process;
    private readonly Queue<string> _output = new();
    private int _lineCount;
    private bool _disposed;

    private ChildProcess(string name, Process process)
    {
        Name = name;
        _process = process;
    }

    /// <summary>Short name for messages.</summary>
    public string Name { get; }

    /// <summary>Operating-system process id.</summary>
    public int Id => _process.Id;

    /// <summary>True once the process has ended.</summary>
    public bool HasExited => _process.HasExited;

    /// <summary>Number of lines the process wrote to stdout and stderr.</summary>
    public int LineCount => Volatile.Read(ref _lineCount);

    /// <summary>User plus system CPU time the process has used so far; a <see cref="BenchFailure"/> once it has exited.</summary>
    public TimeSpan CpuTime
    {
        get
        {
            try
            {
                _process.Refresh();
                return _process.TotalProcessorTime;
            }
            catch (InvalidOperationException ex)
            {
                throw Exited(ex);
            }
        }
    }

    /// <summary>
    /// Resident memory of the process now (<c>VmRSS</c> in <c>/proc/&lt;pid&gt;/status</c>), in bytes; a
    /// <see cref="BenchFailure"/> once it has exited.
    /// </summary>
    public long ResidentBytes
    {
        get
        {
            try
            {
                foreach (var line in File.ReadLines($"/proc/{Id}/status"))
                {
                    // VmRSS:	   81234 kB
                    if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                    {
                        var kilobytes = line["VmRSS:".Length..].Trim().Split(' ', StringSplitOptions.RemoveEmptyEntries)[0];
                        return long.Parse(kilobytes, System.Globalization.CultureInfo.InvariantCulture) * 1024;
                    }
                }
            }
            catch (IOException ex)
            {
                throw Exited(ex);
            }

            throw new BenchFailure($"/proc/{Id}/status of {Name} has no VmRSS line");
        }
    }

    /// <summary>The last lines the process wrote.</summary>
    public string RecentOutput
    {
        get
        {
            lock (_output)
            {
                return string.Join('\n', _output);
            }
        }
    }

    /// <summary>
    /// When set, every child is started under <c>taskset -c</c> with the processors its role gets: proxies on one,
    /// everything else on the other (see <see cref="PinProxies"/>).
    /// </summary>
    public static string? PinnedProxyProcessors { get; private set; }

    /// <summary>The processors of every child that is not a proxy, and of the driver, while pinned.</summary>
    public static string? PinnedOtherProcessors { get; private set; }

    /// <summary>
    /// Gives the proxies a processor of their own (the last one) and puts the driver and the other servers on the
    /// first, so a proxy's CPU time is not disturbed by the client and upstream being scheduled on its processor.
    /// The driver's own threads, existing and future, are moved with <c>taskset -a -p</c>.
    /// </summary>
    public static void PinProxies()
    {
        var last = Environment.ProcessorCount - 1;
        if (last < 1)
        {
            throw new BenchFailure("--pin needs at least 2 processors");
        }

        PinnedProxyProcessors = last.ToString(System.Globalization.CultureInfo.InvariantCulture);
        PinnedOtherProcessors = last == 1 ? "0" : $"0-{last - 1}";
        Process taskset;
        try
        {
            taskset = Process.Start(new ProcessStartInfo("taskset", ["-a", "-p", "-c", PinnedOtherProcessors, Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture)])
            {
                UseShellExecute = false,
                RedirectStandardOutput = true,
            }) ?? throw new BenchFailure("taskset could not be started");
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            throw new BenchFailure("--pin needs taskset (apt-get install util-linux)", ex);
        }

        using var _ = taskset;
        taskset.StandardOutput.ReadToEnd();
        taskset.WaitForExit();
        if (taskset.ExitCode != 0)
        {
            throw new BenchFailure($"taskset exited with code {taskset.ExitCode}");
        }
    }

    /// <summary>Starts <paramref name="fileName"/> with the given arguments; a null environment value removes the variable.</summary>
    public static ChildProcess Start(string name, string fileName, IEnumerable<string> arguments,
        IReadOnlyDictionary<string, string?> environment, string? workingDirectory = null, bool proxy = false)
    {
        if ((proxy ? PinnedProxyProcessors : PinnedOtherProcessors) is { } processors)
        {
            arguments = ["-c", processors, fileName, .. arguments];
            fileName = "taskset";
        }

        var info = new ProcessStartInfo(fileName)
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = workingDirectory ?? "",
        };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        foreach (var (key, value) in environment)
        {
            if (value is null)
            {
                info.Environment.Remove(key);
            }
            else
            {
                info.Environment[key] = value;
            }
        }

        var child = new ChildProcess(name, new Process { StartInfo = info });
        child._process.OutputDataReceived += (_, e) => child.Append(e.Data);
        child._process.ErrorDataReceived += (_, e) => child.Append(e.Data);
        lock (Running)
        {
            child._process.Start();
            Running.Add(child);
        }

        child._process.BeginOutputReadLine();
        child._process.BeginErrorReadLine();
        return child;
    }

    /// <summary>The failure of reading a process that is gone (killed from outside, or crashed), with its last output.</summary>
    private BenchFailure Exited(Exception inner)
        => new($"{Name} (pid {Id}) exited during the run{(HasExited ? $" with code {ExitCode}" : "")}; its last output:\n{RecentOutput}", inner);

    /// <summary>Exit code, or null while running.</summary>
    public int? ExitCode => _process.HasExited ? _process.ExitCode : null;

    /// <summary>Kills every child still running (Ctrl+C, process exit).</summary>
    public static void KillAll()
    {
        ChildProcess[] children;
        lock (Running)
        {
            children = [.. Running];
        }

        foreach (var child in children)
        {
            child.Dispose();
        }
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        lock (Running)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            Running.Remove(this);
        }

        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                _process.WaitForExit(5000);
            }
        }
        catch (InvalidOperationException)
        {
            // already gone
        }
        catch (System.ComponentModel.Win32Exception)
        {
            // already gone
        }

        _process.Dispose();
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        Interlocked.Increment(ref _lineCount);
        lock (_output)
        {
            _output.Enqueue(line);
            while (_output.Count > KeptLines)
            {
                _output.Dequeue();
            }
        }
    }
}
