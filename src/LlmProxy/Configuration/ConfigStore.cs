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
    private string _loadedFingerprint = "";
    private bool _disposed;
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
        CancellationTokenSource? replaced;
        lock (_reloadLock)
        {
            if (_current is not null)
            {
                return;
            }

            var result = Build(out var fingerprint);
            if (result.Snapshot is null)
            {
                foreach (var error in result.Errors)
                {
                    Log.Invalid(_logger, Path, error);
                }

                throw new InvalidConfigException(Path, result.Errors);
            }

            replaced = Apply(result, fingerprint);
        }

        Signal(replaced);
        StartWatching();
    }

    /// <summary>
    /// Re-reads the file (and the secrets it references); keeps the current snapshot if anything is invalid.
    /// Never throws. Returns true when a new snapshot was applied.
    /// </summary>
    public bool Reload()
    {
        if (Volatile.Read(ref _disposed))
        {
            return false;
        }

        ConfigReloadOutcome outcome;
        CancellationTokenSource? replaced = null;
        lock (_reloadLock)
        {
            ConfigBuildResult result;
            string fingerprint;
            try
            {
                result = Build(out fingerprint);
            }
            catch (Exception ex)
            {
                // Whatever an edit holds, a running gateway keeps its last good config.
                result = ConfigBuildResult.Failed([$"$: the config could not be built ({ex.GetType().Name}: {ex.Message})"]);
                fingerprint = "";
            }

            if (result.Snapshot is not null && fingerprint == _loadedFingerprint)
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
                replaced = Apply(result, fingerprint);
                outcome = new ConfigReloadOutcome(ConfigReloadStatus.Applied, []);
            }
        }

        // Listeners (YARP) reload outside the lock, so their callbacks may read the store freely.
        Signal(replaced);
        ReloadAttempted?.Invoke(outcome);
        return outcome.Status == ConfigReloadStatus.Applied;
    }

    private ConfigBuildResult Build(out string fingerprint)
    {
        fingerprint = "";
        string text;
        try
        {
            text = File.ReadAllText(Path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return ConfigBuildResult.Failed([$"{Path}: cannot read the file ({ex.GetType().Name}: {ex.Message})"]);
        }

        var config = ConfigFile.Parse(text, out var error);
        if (config is null)
        {
            return ConfigBuildResult.Failed([error!]);
        }

        var pricingPath = System.IO.Path.Combine(System.IO.Path.GetDirectoryName(Path) ?? ".", config.PricingFile);
        PricingConfig? pricing = null;
        var pricingText = "";
        if (File.Exists(pricingPath))
        {
            try
            {
                pricingText = File.ReadAllText(pricingPath);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                return ConfigBuildResult.Failed([$"pricing: cannot read {pricingPath} ({ex.GetType().Name})"]);
            }

            pricing = ConfigFile.ParsePricing(pricingText, out var pricingError);
            if (pricing is null)
            {
                return ConfigBuildResult.Failed([pricingError!]);
            }
        }

        var result = _builder.Build(config, _revision + 1, pricing);
        if (result.Snapshot is not null)
        {
            fingerprint = Fingerprint(text + "\0" + pricingText, result.Snapshot);
        }

        return result;
    }

    // The file's text plus the resolved credentials: a rotated secret file counts as a change.
    private static string Fingerprint(string text, GatewaySnapshot snapshot)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(System.Text.Encoding.UTF8.GetBytes(text));
        foreach (var provider in snapshot.Providers.Values)
        {
            hash.AppendData(System.Text.Encoding.UTF8.GetBytes("\0" + provider.Name + "\0" + provider.Credential));
        }

        return Convert.ToHexString(hash.GetHashAndReset());
    }

    private CancellationTokenSource Apply(ConfigBuildResult result, string fingerprint)
    {
        foreach (var warning in result.Warnings)
        {
            Log.Warning(_logger, warning);
        }

        _revision++;
        _loadedFingerprint = fingerprint;
        Volatile.Write(ref _current, result.Snapshot);
        Log.Loaded(_logger, Path, _revision, result.Snapshot!.ModelList.Length, result.Snapshot.Providers.Count);
        return Interlocked.Exchange(ref _changeSource, new CancellationTokenSource());
    }

    private static void Signal(CancellationTokenSource? replaced)
    {
        if (replaced is not null)
        {
            replaced.Cancel();
            replaced.Dispose();
        }
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
        if (Volatile.Read(ref _disposed))
        {
            return;
        }

        // Editors write in several steps; wait for the writes to settle, then compare contents.
        var timer = _time.CreateTimer(static state => ((ConfigStore)state!).Reload(), this, Debounce, Timeout.InfiniteTimeSpan);
        Interlocked.Exchange(ref _debounceTimer, timer)?.Dispose();
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        Volatile.Write(ref _disposed, true);
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
