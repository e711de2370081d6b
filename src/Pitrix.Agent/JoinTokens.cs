using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using Pitrix.Core;

namespace Pitrix.Agent;

/// <summary>
/// A stored join token: only the SHA-256 of the token (a token is 256 random bits, so a plain hash
/// cannot be reversed by guessing), the identity it was issued for, and when it expires or was used.
/// </summary>
public sealed record JoinTokenRecord(string TokenHash, AgentIdentity Identity, DateTimeOffset ExpiresAt)
{
    public DateTimeOffset? ConsumedAt { get; init; }
}

/// <summary>The outcome of consuming a join token.</summary>
public enum JoinTokenConsumeStatus
{
    Consumed,
    Unknown,
    Expired,
    AlreadyUsed,
}

/// <summary>
/// Where join tokens live. <see cref="ConsumeAsync"/> must be atomic: of two concurrent calls with the
/// same hash, at most one returns <see cref="JoinTokenConsumeStatus.Consumed"/>.
/// <see cref="InMemoryJoinTokenStore"/> serves a single process; the database-backed store (tokens
/// surviving restarts and shared by server replicas) comes with Pilot.
/// </summary>
public interface IJoinTokenStore
{
    Task AddAsync(JoinTokenRecord record, CancellationToken cancellationToken);

    /// <summary>Marks the token used when it exists, is unused and has not expired at <paramref name="now"/>.</summary>
    Task<(JoinTokenConsumeStatus Status, AgentIdentity? Identity)> ConsumeAsync(string tokenHash, DateTimeOffset now, CancellationToken cancellationToken);
}

/// <summary>
/// Join tokens held in memory, for a single server process and for tests. Used and expired tokens
/// are kept for a day past their expiry so a late retry gets a precise error, then forgotten.
/// </summary>
public sealed class InMemoryJoinTokenStore(TimeProvider time) : IJoinTokenStore
{
    private static readonly TimeSpan Retention = TimeSpan.FromDays(1);
    private readonly Dictionary<string, JoinTokenRecord> _records = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();

    public Task AddAsync(JoinTokenRecord record, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            var now = time.GetUtcNow();
            foreach (var stale in _records.Values.Where(r => r.ExpiresAt + Retention < now).ToList())
            {
                _records.Remove(stale.TokenHash);
            }

            if (!_records.TryAdd(record.TokenHash, record))
            {
                throw new InvalidOperationException("A join token with this hash already exists.");
            }
        }

        return Task.CompletedTask;
    }

    public Task<(JoinTokenConsumeStatus Status, AgentIdentity? Identity)> ConsumeAsync(string tokenHash, DateTimeOffset now, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            if (!_records.TryGetValue(tokenHash, out var record))
            {
                return Task.FromResult<(JoinTokenConsumeStatus, AgentIdentity?)>((JoinTokenConsumeStatus.Unknown, null));
            }

            if (record.ConsumedAt is not null)
            {
                return Task.FromResult<(JoinTokenConsumeStatus, AgentIdentity?)>((JoinTokenConsumeStatus.AlreadyUsed, null));
            }

            if (now >= record.ExpiresAt)
            {
                return Task.FromResult<(JoinTokenConsumeStatus, AgentIdentity?)>((JoinTokenConsumeStatus.Expired, null));
            }

            _records[tokenHash] = record with { ConsumedAt = now };
            return Task.FromResult<(JoinTokenConsumeStatus, AgentIdentity?)>((JoinTokenConsumeStatus.Consumed, record.Identity));
        }
    }
}

/// <summary>A join token as handed to the runtime driver for a node's boot data. The token itself is never stored.</summary>
public sealed record IssuedJoinToken(string Token, AgentIdentity Identity, DateTimeOffset ExpiresAt);

/// <summary>Issues one-time join tokens bound to an identity and redeems them.</summary>
public sealed class JoinTokens(IJoinTokenStore store, TimeProvider time)
{
    private const string Prefix = "pjt_";

    /// <summary>Issues a token that enrolls <paramref name="identity"/> once, within <paramref name="lifetime"/>.</summary>
    public async Task<IssuedJoinToken> IssueAsync(AgentIdentity identity, TimeSpan lifetime, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(lifetime, TimeSpan.Zero);
        var token = Prefix + Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(32));
        var expiresAt = time.GetUtcNow() + lifetime;
        await store.AddAsync(new JoinTokenRecord(Hash(token), identity, expiresAt), cancellationToken);
        return new IssuedJoinToken(token, identity, expiresAt);
    }

    /// <summary>
    /// Consumes <paramref name="token"/> and returns the identity it was issued for, or an error with
    /// code <c>join_token.invalid</c>, <c>join_token.expired</c> or <c>join_token.used</c>.
    /// </summary>
    public async Task<Result<AgentIdentity>> RedeemAsync(string token, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(token) || !token.StartsWith(Prefix, StringComparison.Ordinal) || token.Length > 100)
        {
            return Invalid();
        }

        var (status, identity) = await store.ConsumeAsync(Hash(token), time.GetUtcNow(), cancellationToken);
        return status switch
        {
            JoinTokenConsumeStatus.Consumed => identity!,
            JoinTokenConsumeStatus.Expired => new Error(ErrorKind.Unauthenticated, AgentErrorCodes.JoinTokenExpired, "The join token has expired; issue a new one for this node."),
            JoinTokenConsumeStatus.AlreadyUsed => new Error(ErrorKind.Unauthenticated, AgentErrorCodes.JoinTokenUsed, "The join token was already used; a join token enrolls one agent once."),
            _ => Invalid(),
        };
    }

    /// <summary>The stored form of a token.</summary>
    public static string Hash(string token) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(token)));

    private static Error Invalid() => new(ErrorKind.Unauthenticated, AgentErrorCodes.JoinTokenInvalid, "The join token is not valid.");
}
