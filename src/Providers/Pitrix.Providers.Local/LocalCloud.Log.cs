using Microsoft.Extensions.Logging;

namespace Pitrix.Providers.Local;

public sealed partial class LocalCloud
{
    [LoggerMessage(1, LogLevel.Information, "Started the {Agent} agent of local instance {InstanceId} (pid {Pid}, start {Starts}).")]
    private partial void LogAgentStarted(string instanceId, string agent, int pid, int starts);

    [LoggerMessage(2, LogLevel.Warning, "The agent of local instance {InstanceId} (pid {Pid}) is no longer running; rebooting the instance.")]
    private partial void LogAgentDied(string instanceId, int pid);

    [LoggerMessage(3, LogLevel.Information, "Stopped local instance {InstanceId} and every process it started.")]
    private partial void LogAgentStopped(string instanceId);

    [LoggerMessage(4, LogLevel.Information, "Terminated local instance {InstanceId}.")]
    private partial void LogInstanceTerminated(string instanceId);
}
