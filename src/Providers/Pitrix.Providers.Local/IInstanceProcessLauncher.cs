namespace Pitrix.Providers.Local;

/// <summary>
/// How a local instance's processes are launched and ended: the seam between <see cref="LocalCloud"/>, which
/// keeps the instance's state, and the isolation its processes run in. <see cref="SessionProcessLauncher"/>
/// runs them on the host in a session of their own; an isolating launcher (a network namespace per
/// instance, say) implements the same three calls.
/// </summary>
/// <remarks>
/// Every process of an instance, the agent and whatever it starts, carries
/// <see cref="LocalCloud.InstanceMarkerVariable"/><c>=&lt;instance id&gt;</c> in its environment; a launcher
/// finds them by that marker and signals nothing else.
/// </remarks>
public interface IInstanceProcessLauncher
{
    /// <summary>
    /// Starts the instance's agent so that it outlives the calling process, with its output appended to
    /// <see cref="LocalLaunchRequest.LogPath"/>, and returns what identifies it later, after a server restart too.
    /// </summary>
    LocalProcessHandle Launch(LocalLaunchRequest request);

    /// <summary>True while the process <paramref name="handle"/> names is alive: the same pid and start time, not a zombie.</summary>
    bool IsRunning(LocalProcessHandle handle);

    /// <summary>
    /// Ends every process of the instance: SIGTERM, then SIGKILL for those still there after
    /// <paramref name="gracePeriod"/>, and returns once none is left. Processes started meanwhile are ended too.
    /// </summary>
    Task StopAllAsync(string instanceId, TimeSpan gracePeriod, CancellationToken cancellationToken);

    /// <summary>The live processes of the instance now (for diagnostics and tests).</summary>
    IReadOnlyList<LocalProcessHandle> FindAll(string instanceId);
}

/// <summary>What <see cref="IInstanceProcessLauncher.Launch"/> starts.</summary>
/// <param name="InstanceId">The instance, also the value of the environment marker.</param>
/// <param name="Command">The agent's command.</param>
/// <param name="Arguments">The agent's own arguments, after <see cref="AgentCommand.Prefix"/>.</param>
/// <param name="Environment">Variables added to the inherited environment, the marker among them.</param>
/// <param name="WorkingDirectory">The directory the agent starts in: the instance's root.</param>
/// <param name="LogPath">The file its standard output and error are appended to.</param>
public sealed record LocalLaunchRequest(
    string InstanceId,
    AgentCommand Command,
    IReadOnlyList<string> Arguments,
    IReadOnlyDictionary<string, string> Environment,
    string WorkingDirectory,
    string LogPath)
{
    /// <summary>
    /// The network namespace to run the agent in, as a path such as <c>/run/netns/NAME</c>; null for the
    /// launcher's own network.
    /// </summary>
    public string? NetworkNamespace { get; init; }
}

/// <summary>
/// A process as it is recognized after a restart: its pid and its start time (clock ticks after boot, field 22
/// of <c>/proc/&lt;pid&gt;/stat</c>), so a pid reused by another process is never taken for it.
/// </summary>
public sealed record LocalProcessHandle(int Pid, long StartTime);
