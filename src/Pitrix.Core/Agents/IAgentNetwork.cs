namespace Pitrix.Core.Agents;

/// <summary>
/// The control plane's handle on the agent network (Pilot ⇄ Frontgate ⇄ Drone), for task handlers.
/// Calls answer <c>null</c> (or a value) on success and an <see cref="Error"/> otherwise. Every call goes to one frontgate over the stream that frontgate holds open to Pilot; calls to a
/// frontgate that is not connected fail at once with <see cref="AgentNetworkErrors.FrontgateNotConnected"/>
/// (retryable: the frontgate reconnects with backoff), calls to a node whose drone is not connected with
/// <see cref="AgentNetworkErrors.NodeNotConnected"/>.
/// </summary>
/// <remarks>
/// Pilot runs in the server process (role <c>pilot</c>); the engine reaches it in-process, so the engine
/// and pilot roles run together.
/// </remarks>
public interface IAgentNetwork
{
    /// <summary>Whether the frontgate holds a stream to this Pilot right now.</summary>
    bool IsConnected(string frontgateId);

    /// <summary>
    /// Issues a one-time join token for an agent about to boot: a node (<see cref="AgentKinds.Node"/>, id =
    /// cluster node id) or a frontgate (<see cref="AgentKinds.Frontgate"/>). The token goes into the
    /// instance's user data together with <see cref="JoinTicket.CaPem"/>.
    /// </summary>
    Task<JoinTicket> IssueJoinTokenAsync(string agentKind, string agentId, CancellationToken cancellationToken);

    /// <summary>Round trip to the frontgate, or through it to the node's drone when <paramref name="nodeId"/> is set.</summary>
    Task<Result<AgentPong>> PingAsync(string frontgateId, string? nodeId, CancellationToken cancellationToken);

    /// <summary>Writes keys under the cluster's metadata root (<c>hosts/…</c>, <c>cluster/…</c>, <c>env/…</c>).</summary>
    Task<Error?> PutMetadataAsync(string frontgateId, string clusterId, IReadOnlyDictionary<string, string> entries, CancellationToken cancellationToken);

    /// <summary>Removes keys (or, with <paramref name="prefix"/>, key prefixes; an empty prefix is the whole cluster).</summary>
    Task<Error?> DeleteMetadataAsync(string frontgateId, string clusterId, IReadOnlyList<string> keys, bool prefix, CancellationToken cancellationToken);

    /// <summary>
    /// Queues a command on a node; succeeds once the drone accepted it. The outcome is reported later and
    /// persisted; read it with <see cref="WaitForCommandResultAsync"/>. Sending the same task id again
    /// never runs the command twice: a drone that already ran it reports the stored result again.
    /// </summary>
    Task<Error?> RunCommandAsync(string frontgateId, AgentCommand command, CancellationToken cancellationToken);

    /// <summary>
    /// The persisted result of a node's command for a task, waiting up to <paramref name="wait"/> for it to
    /// arrive; <c>null</c> when none arrived in that time.
    /// </summary>
    Task<AgentCommandResult?> WaitForCommandResultAsync(string nodeId, string taskId, TimeSpan wait, CancellationToken cancellationToken);

    /// <summary>Installs the app's files (a gzip tar) under the node's <c>/opt/pitrix/app</c>, replacing the previous set.</summary>
    Task<Error?> InstallFilesAsync(string frontgateId, string nodeId, string taskId, ReadOnlyMemory<byte> archive, string version, CancellationToken cancellationToken);

    /// <summary>Starts rendering the node's <c>confd</c> templates from its metadata view, re-rendering on every change.</summary>
    Task<Error?> StartConfigWatchAsync(string frontgateId, string nodeId, CancellationToken cancellationToken);

    Task<Error?> StopConfigWatchAsync(string frontgateId, string nodeId, CancellationToken cancellationToken);

    /// <summary>Configures the node's health check (or stops it when <see cref="AgentHealthCheck.Enabled"/> is false).</summary>
    Task<Error?> ConfigureHealthCheckAsync(string frontgateId, string nodeId, AgentHealthCheck check, CancellationToken cancellationToken);

    /// <summary>What the frontgate knows of its nodes (all, or one).</summary>
    Task<Result<IReadOnlyList<AgentNodeStatus>>> GetStatusAsync(string frontgateId, string? nodeId, CancellationToken cancellationToken);

    /// <summary>The last persisted health report of each of these nodes (nodes never reported are absent).</summary>
    Task<IReadOnlyDictionary<string, AgentNodeHealth>> GetNodeHealthAsync(IReadOnlyCollection<string> nodeIds, CancellationToken cancellationToken);
}

public static class AgentKinds
{
    public const string Node = "node";

    public const string Frontgate = "frontgate";
}

/// <summary>Stable error codes of <see cref="IAgentNetwork"/> calls.</summary>
public static class AgentNetworkErrors
{
    /// <summary>The frontgate holds no stream to Pilot now. Retryable.</summary>
    public const string FrontgateNotConnected = "agent.frontgate_not_connected";

    /// <summary>The node's drone is not connected to its frontgate now. Retryable.</summary>
    public const string NodeNotConnected = "agent.node_not_connected";

    /// <summary>No answer within the call's deadline. Retryable.</summary>
    public const string Timeout = "agent.timeout";

    /// <summary>The agent refused the request (for example an unsafe archive); the message says why. Not retryable.</summary>
    public const string Rejected = "agent.rejected";
}

/// <summary>What a booting agent needs to enroll: the one-time token, the CA to trust, and where Pilot listens.</summary>
public sealed record JoinTicket(string Token, string CaPem, string PilotAddress, DateTimeOffset ExpiresAt);

public sealed record AgentPong(string Version, TimeSpan RoundTrip);

/// <summary>
/// A command for one node. <see cref="Command"/> is split into argv without a shell (quotes group words);
/// values reach it only through <see cref="Environment"/>.
/// </summary>
public sealed record AgentCommand(string NodeId, string TaskId, string Command, TimeSpan Timeout)
{
    public IReadOnlyDictionary<string, string> Environment { get; init; } = new Dictionary<string, string>();
}

public sealed record AgentCommandResult(
    string NodeId,
    string TaskId,
    int ExitCode,
    TimeSpan Duration,
    string StdoutTail,
    string StderrTail,
    bool TimedOut,
    DateTimeOffset FinishedAt)
{
    /// <summary>Set when the command could not start at all (for example <c>drone.command_not_found</c>).</summary>
    public string? ErrorCode { get; init; }

    public string? ErrorMessage { get; init; }

    public bool Succeeded => ExitCode == 0 && !TimedOut && ErrorCode is null;
}

public sealed record AgentHealthCheck(
    bool Enabled,
    string CheckCommand,
    string? ActionCommand,
    TimeSpan Interval,
    TimeSpan Timeout,
    TimeSpan ActionTimeout,
    int HealthyThreshold,
    int UnhealthyThreshold);

public enum AgentHealthState
{
    Unknown,

    Healthy,

    Degraded,

    Unhealthy,
}

public sealed record AgentNodeHealth(string NodeId, AgentHealthState State, string? Detail, DateTimeOffset CheckedAt);

public sealed record AgentNodeStatus(string NodeId, bool Connected, bool WatchingConfig, AgentHealthState Health, DateTimeOffset? LastSeen, string? AppVersion);
