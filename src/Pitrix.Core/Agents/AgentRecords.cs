namespace Pitrix.Core.Agents;

/// <summary>
/// A one-time join token as stored: only the SHA-256 of the token (a token is 256 random bits, so the
/// hash cannot be reversed by guessing), the agent it enrolls, and when it expires or was used.
/// </summary>
public sealed class AgentJoinToken
{
    public required string TokenHash { get; init; }

    /// <summary><see cref="AgentKinds.Node"/> or <see cref="AgentKinds.Frontgate"/>.</summary>
    public required string AgentKind { get; init; }

    public required string AgentId { get; init; }

    public DateTimeOffset CreatedAt { get; init; }

    public DateTimeOffset ExpiresAt { get; init; }

    /// <summary>When the token was exchanged for a certificate; a token is good for one use.</summary>
    public DateTimeOffset? ConsumedAt { get; set; }
}

/// <summary>A node's drone as Pilot knows it: which frontgate it enrolled through and its last health report.</summary>
public sealed class AgentNode
{
    /// <summary>The cluster node id, which is also the drone's identity (<c>pitrix://node/&lt;id&gt;</c>).</summary>
    public required string NodeId { get; init; }

    /// <summary>The frontgate the node enrolled through: the only one whose reports about it and renewals for it are accepted.</summary>
    public string? FrontgateId { get; set; }

    public DateTimeOffset? EnrolledAt { get; set; }

    public AgentHealthState? HealthState { get; set; }

    public string? HealthDetail { get; set; }

    /// <summary>When the drone ran the health check reported last.</summary>
    public DateTimeOffset? HealthCheckedAt { get; set; }

    /// <summary>When Pilot last heard of the node (enrollment, a health report or a command result).</summary>
    public DateTimeOffset? LastSeenAt { get; set; }
}

/// <summary>A frontgate that has connected to Pilot at least once.</summary>
public sealed class AgentFrontgate
{
    public required string Id { get; init; }

    public string Version { get; set; } = "";

    /// <summary>When its current (or last) stream was opened.</summary>
    public DateTimeOffset ConnectedAt { get; set; }

    /// <summary>When Pilot last heard from it; heartbeats update it at most every few seconds.</summary>
    public DateTimeOffset LastSeenAt { get; set; }
}

/// <summary>
/// A command's outcome as reported by the node's frontgate, keyed by node and task. The first report
/// is kept; a repeated report of the same task (a drone reporting again after a reconnect) is ignored.
/// </summary>
public sealed class AgentCommandRecord
{
    public required string NodeId { get; init; }

    public required string TaskId { get; init; }

    /// <summary>The frontgate that reported it.</summary>
    public required string FrontgateId { get; init; }

    public int ExitCode { get; init; }

    public TimeSpan Duration { get; init; }

    public string StdoutTail { get; init; } = "";

    public string StderrTail { get; init; } = "";

    public bool TimedOut { get; init; }

    public DateTimeOffset FinishedAt { get; init; }

    public string? ErrorCode { get; init; }

    public string? ErrorMessage { get; init; }

    /// <summary>When Pilot stored the report.</summary>
    public DateTimeOffset ReceivedAt { get; init; }

    public AgentCommandResult ToResult() =>
        new(NodeId, TaskId, ExitCode, Duration, StdoutTail, StderrTail, TimedOut, FinishedAt) { ErrorCode = ErrorCode, ErrorMessage = ErrorMessage };
}
