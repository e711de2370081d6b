using Microsoft.Extensions.Logging;

namespace Pitrix.Catalog.Indexing;

public sealed partial class RepoSyncer
{
    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Debug, Message = "Sync {SyncId} of repo {RepoId} waits: another run holds the repo's lease")]
        public static partial void LeaseHeld(ILogger logger, string syncId, string repoId);

        [LoggerMessage(Level = LogLevel.Information, Message = "Sync {SyncId} of repo {RepoId} started ({Trigger})")]
        public static partial void Started(ILogger logger, string syncId, string repoId, string trigger);

        [LoggerMessage(Level = LogLevel.Information, Message = "Sync {SyncId} of repo {RepoId} {Status} in {ElapsedMs} ms (unchanged {Unchanged}, added {Added}, updated {Updated}, removed {Removed}, failed {Failed}, error {ErrorCode})")]
        public static partial void Finished(ILogger logger, string syncId, string repoId, string status, long elapsedMs, bool unchanged, int added, int updated, int removed, int failed, string? errorCode);

        [LoggerMessage(Level = LogLevel.Error, Message = "Sync {SyncId} of repo {RepoId} failed unexpectedly")]
        public static partial void Crashed(ILogger logger, Exception exception, string syncId, string repoId);

        [LoggerMessage(Level = LogLevel.Warning, Message = "Package {Version} of repo {RepoId} could not be read: {ErrorCode}")]
        public static partial void PackageFailed(ILogger logger, string repoId, string version, string errorCode);

        [LoggerMessage(Level = LogLevel.Warning, Message = "Lost the sync lease of repo {RepoId} ({Owner}); stopping this run")]
        public static partial void LeaseLost(ILogger logger, string repoId, string owner);

        [LoggerMessage(Level = LogLevel.Warning, Message = "Could not extend the sync lease of repo {RepoId}; retrying at the next beat")]
        public static partial void HeartbeatFailed(ILogger logger, Exception exception, string repoId);
    }
}
