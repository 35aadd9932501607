using System.Security.Cryptography;
using LlmProxy.Telemetry;
using Microsoft.Extensions.Primitives;

namespace LlmProxy.Configuration;

/// <summary>
/// Owns the current <see cref="GatewaySnapshot"/>: loads the config file at start-up (an invalid file stops
/// start-up), watches it, and on change builds a new snapshot. An invalid edit keeps the last good snapshot
/// and logs every error.
/// </summary>
public sealed partial class ConfigStore : IDisposable
{
    private static readonly TimeSpan Debounce = TimeSpan.FromMilliseconds(200);

    private readonly SnapshotBuilder _builder;
    private readonly ILogger<ConfigStore> _logger;
    private readonly TimeProvider _time;
    private readonly Lock _reloadLock = new();
    private GatewaySnapshot? _current;
    private CancellationTokenSource _changeSource = new();
    private FileSystemWatcher? _watcher;
    private ITimer? _debounceTimer;
    private string _loadedHash = "";
    private long _revision;

    internal ConfigStore(string path, SnapshotBuilder builder, ILogger<ConfigStore> logger, TimeProvider time)
    {
        Path = path;
        _builder = builder;
        _logger = logger;
        _time = time;
    }

    /// <summary>The config file in use.</summary>
    public string Path { get; }

    /// <summary>The snapshot in force. Throws before the first successful load.</summary>
    public GatewaySnapshot Current => Volatile.Read(ref _current) ?? throw new InvalidOperationException("The config has not been loaded.");

    /// <summary>True once a valid config is loaded.</summary>
    public bool IsLoaded => Volatile.Read(ref _current) is not null;

    /// <summary>Number of successful reloads after the first load.</summary>
    public long ReloadCount { get; private set; }

    /// <summary>Number of rejected reloads.</summary>
    public long ReloadFailureCount { get; private set; }

    /// <summary>Raised after every reload attempt with its outcome (applied, unchanged or rejected, and the errors).</summary>
    public event Action<ConfigReloadOutcome>? ReloadAttempted;

    /// <summary>Fires once when the snapshot is replaced; get a new token after it fires.</summary>
    public IChangeToken GetChangeToken() => new CancellationChangeToken(Volatile.Read(ref _changeSource).Token);

    /// <summary>Loads the file for the first time and starts watching it. Throws <see cref="InvalidConfigException"/>.</summary>
    public void LoadInitial()
    {
        lock (_reloadLock)
        {
            if (_current is not null)
            {
                return;
            }

            var result = Build(out var hash);
            if (result.Snapshot is null)
            {
                foreach (var error in result.Errors)
                {
                    Log.Invalid(_logger, Path, error);
                }

                throw new InvalidConfigException(Path, result.Errors);
            }

            Apply(result, hash);
        }

        StartWatching();
    }

    /// <summary>Re-reads the file; keeps the current snapshot if it is invalid. Returns true when a new snapshot was applied.</summary>
    public bool Reload()
    {
        ConfigReloadOutcome outcome;
        lock (_reloadLock)
        {
            var result = Build(out var hash);
            if (hash == _loadedHash && result.Snapshot is not null)
            {
                outcome = new ConfigReloadOutcome(ConfigReloadStatus.Unchanged, []);
            }
            else if (result.Snapshot is null)
            {
                ReloadFailureCount++;
                foreach (var error in result.Errors)
                {
                    Log.ReloadRejected(_logger, Path, error);
                }

                outcome = new ConfigReloadOutcome(ConfigReloadStatus.Rejected, result.Errors);
            }
            else
            {
                ReloadCount++;
                Apply(result, hash);
                outcome = new ConfigReloadOutcome(ConfigReloadStatus.Applied, []);
            }
        }

        ReloadAttempted?.Invoke(outcome);
        return outcome.Status == ConfigReloadStatus.Applied;
    }

    private ConfigBuildResult Build(out string hash)
    {
        hash = "";
        string text;
        try
        {
            text = File.ReadAllText(Path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return ConfigBuildResult.Failed([$"{Path}: cannot read the file ({ex.GetType().Name}: {ex.Message})"]);
        }

        hash = Convert.ToHexString(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(text)));
        var config = ConfigFile.Parse(text, out var error);
        if (config is null)
        {
            return ConfigBuildResult.Failed([error!]);
        }

        try
        {
            return _builder.Build(config, _revision + 1);
        }
        catch (Exception ex) when (ex is ArgumentException or InvalidOperationException or NullReferenceException or FormatException)
        {
            // A shape the validator did not foresee must never take down a running gateway.
            return ConfigBuildResult.Failed([$"$: the config could not be built ({ex.GetType().Name}: {ex.Message})"]);
        }
    }

    private void Apply(ConfigBuildResult result, string hash)
    {
        foreach (var warning in result.Warnings)
        {
            Log.Warning(_logger, warning);
        }

        _revision++;
        _loadedHash = hash;
        Volatile.Write(ref _current, result.Snapshot);
        Log.Loaded(_logger, Path, _revision, result.Snapshot!.ModelList.Length, result.Snapshot.Providers.Count);
        var previous = Interlocked.Exchange(ref _changeSource, new CancellationTokenSource());
        previous.Cancel();
        previous.Dispose();
    }

    private void StartWatching()
    {
        var directory = System.IO.Path.GetDirectoryName(Path);
        if (directory is null || !Directory.Exists(directory))
        {
            return;
        }

        try
        {
            // Watch the whole folder: Kubernetes updates a mounted ConfigMap by swapping a symlinked folder.
            _watcher = new FileSystemWatcher(directory) { IncludeSubdirectories = false, NotifyFilter = NotifyFilters.LastWrite | NotifyFilters.FileName | NotifyFilters.DirectoryName | NotifyFilters.Size | NotifyFilters.CreationTime };
            _watcher.Changed += OnFileEvent;
            _watcher.Created += OnFileEvent;
            _watcher.Renamed += OnFileEvent;
            _watcher.Deleted += OnFileEvent;
            _watcher.EnableRaisingEvents = true;
        }
        catch (Exception ex) when (ex is IOException or ArgumentException or PlatformNotSupportedException)
        {
            Log.WatchFailed(_logger, Path, ex.Message);
        }
    }

    private void OnFileEvent(object sender, FileSystemEventArgs e)
    {
        // Editors write in several steps; wait for the writes to settle, then compare contents.
        var timer = _time.CreateTimer(static state => ((ConfigStore)state!).Reload(), this, Debounce, Timeout.InfiniteTimeSpan);
        Interlocked.Exchange(ref _debounceTimer, timer)?.Dispose();
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        _watcher?.Dispose();
        _debounceTimer?.Dispose();
        _changeSource.Dispose();
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = EventIds.ConfigLoaded, Level = LogLevel.Information, Message = "Loaded config {Path} (revision {Revision}): {Models} models, {Providers} providers")]
        public static partial void Loaded(ILogger logger, string path, long revision, int models, int providers);

        [LoggerMessage(EventId = EventIds.ConfigInvalid, Level = LogLevel.Critical, Message = "Invalid config {Path}: {Error}")]
        public static partial void Invalid(ILogger logger, string path, string error);

        [LoggerMessage(EventId = EventIds.ConfigReloadRejected, Level = LogLevel.Error, Message = "Config change in {Path} rejected, the last good config stays in force: {Error}")]
        public static partial void ReloadRejected(ILogger logger, string path, string error);

        [LoggerMessage(EventId = EventIds.ConfigWarning, Level = LogLevel.Information, Message = "Config: {Warning}")]
        public static partial void Warning(ILogger logger, string warning);

        [LoggerMessage(EventId = EventIds.ConfigWatchFailed, Level = LogLevel.Warning, Message = "Cannot watch {Path} for changes: {Reason}")]
        public static partial void WatchFailed(ILogger logger, string path, string reason);
    }
}
