namespace Pitrix.Core.Audit;

/// <summary>One recorded mutation: who did what to which resource, when, from where, and how it ended.</summary>
public sealed class AuditEntry
{
    public required string Id { get; init; }

    public DateTimeOffset At { get; init; }

    /// <summary>The caller's user id; null when the caller was not signed in (a failed login).</summary>
    public string? UserId { get; init; }

    public string? UserName { get; init; }

    /// <summary>Stable action name, for example <c>runtime.create</c>.</summary>
    public required string Action { get; init; }

    public string? ResourceType { get; init; }

    public string? ResourceId { get; init; }

    public string? Address { get; init; }

    public required string Method { get; init; }

    public required string Path { get; init; }

    public int StatusCode { get; init; }

    /// <summary><c>success</c> or <c>failure</c>.</summary>
    public required string Outcome { get; init; }

    /// <summary>The error code on failure.</summary>
    public string? ErrorCode { get; init; }
}
