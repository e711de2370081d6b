using Microsoft.Extensions.Logging;

namespace Pitrix.Drone.Agent;

public sealed partial class DroneAgent
{
    [LoggerMessage(1, LogLevel.Information, "Drone {NodeId} starting: root {Root}, frontgate {FrontgateAddress} expected as {FrontgateIdentity}")]
    private partial void LogStarting(string nodeId, string root, Uri frontgateAddress, string frontgateIdentity);

    [LoggerMessage(2, LogLevel.Information, "Enrolling node {NodeId} through the frontgate")]
    private partial void LogEnrolling(string nodeId);

    [LoggerMessage(3, LogLevel.Information, "Enrolled; certificate valid until {NotAfter:o}")]
    private partial void LogEnrolled(DateTime notAfter);

    [LoggerMessage(4, LogLevel.Error, "The node certificate expired at {NotAfter:o} and the bootstrap holds no new join token; the node needs a new one to enroll again")]
    private partial void LogCertificateExpired(DateTime notAfter);

    [LoggerMessage(5, LogLevel.Information, "Connected to the frontgate at {FrontgateAddress}")]
    private partial void LogConnected(Uri frontgateAddress);

    [LoggerMessage(6, LogLevel.Warning, "Disconnected: {Reason}")]
    private partial void LogDisconnected(string reason);

    [LoggerMessage(7, LogLevel.Warning, "Connection to the frontgate failed: {Reason}")]
    private partial void LogConnectionFailed(string reason);

    [LoggerMessage(8, LogLevel.Information, "Reconnecting in {DelaySeconds:0.##} s")]
    private partial void LogReconnecting(double delaySeconds);

    [LoggerMessage(9, LogLevel.Information, "Drone stopped")]
    private partial void LogStopped();

    [LoggerMessage(10, LogLevel.Information, "Certificate renewed; valid until {NotAfter:o}")]
    private partial void LogRenewed(DateTime notAfter);

    [LoggerMessage(11, LogLevel.Warning, "Certificate renewal failed, retrying: {Reason}")]
    private partial void LogRenewFailed(string reason);

    [LoggerMessage(12, LogLevel.Information, "Command for task {TaskId} accepted")]
    private partial void LogCommandAccepted(string taskId);

    [LoggerMessage(13, LogLevel.Information, "Command for task {TaskId} finished: {Status}, exit code {ExitCode}, replay {IsReplay}")]
    private partial void LogCommandFinished(string taskId, string status, int exitCode, bool isReplay);

    [LoggerMessage(14, LogLevel.Debug, "Result of task {TaskId} delivered")]
    private partial void LogResultDelivered(string taskId);

    [LoggerMessage(15, LogLevel.Information, "Resuming the command of task {TaskId}, accepted before the drone restarted")]
    private partial void LogResumingCommand(string taskId);

    [LoggerMessage(16, LogLevel.Error, "{Request} failed unexpectedly")]
    private partial void LogRequestFailed(Exception exception, string request);

    [LoggerMessage(17, LogLevel.Information, "Installed app files {Version}: {Files} files in {AppDirectory}")]
    private partial void LogInstalled(string version, int files, string appDirectory);

    [LoggerMessage(18, LogLevel.Warning, "Refused app files {Version}: {Reason}")]
    private partial void LogInstallRejected(string version, string reason);

    [LoggerMessage(19, LogLevel.Error, "Installing app files {Version} failed: {Reason}")]
    private partial void LogInstallFailed(string version, string reason);

    [LoggerMessage(20, LogLevel.Information, "Config watch on: {Watching}")]
    private partial void LogConfigWatch(bool watching);

    [LoggerMessage(21, LogLevel.Warning, "Metadata watch failed, retrying: {Reason}")]
    private partial void LogMetadataWatchFailed(string reason);

    [LoggerMessage(22, LogLevel.Information, "Config {Resource} written to {Dest} (metadata revision {Revision})")]
    private partial void LogConfigUpdated(string resource, string dest, long revision);

    [LoggerMessage(23, LogLevel.Warning, "Config {Resource} not updated: {Outcome}: {Reason}")]
    private partial void LogConfigFailed(string resource, string outcome, string reason);

    [LoggerMessage(24, LogLevel.Error, "The config watcher failed; restarting it")]
    private partial void LogConfdLoopFailed(Exception exception);

    [LoggerMessage(25, LogLevel.Information, "Health check configured: {Enabled}")]
    private partial void LogHealthConfigured(bool enabled);

    [LoggerMessage(26, LogLevel.Information, "Node health changed from {Previous} to {Current}")]
    private partial void LogHealthChanged(string previous, string current);
}
