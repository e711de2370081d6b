using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Pitrix.Agent;
using Pitrix.Core.Agents;
using Pitrix.Persistence;

namespace Pitrix.Pilot;

/// <summary>
/// Join tokens in the database, so they survive a restart and every server replica on one PostgreSQL
/// sees the same tokens. Consuming is one conditional <c>UPDATE</c> (not consumed, not expired), so of
/// two concurrent redemptions of a token exactly one wins, whichever process serves them. Tokens are
/// kept a day past their expiry, so a late retry gets a precise error, then deleted.
/// </summary>
public sealed class DbJoinTokenStore(IServiceScopeFactory scopes, TimeProvider time) : IJoinTokenStore
{
    private static readonly TimeSpan Retention = TimeSpan.FromDays(1);

    public async Task AddAsync(JoinTokenRecord record, CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<PitrixDbContext>();
        var cutoff = time.GetUtcNow() - Retention;
        await db.AgentJoinTokens.Where(t => t.ExpiresAt < cutoff).ExecuteDeleteAsync(cancellationToken);
        db.AgentJoinTokens.Add(new AgentJoinToken
        {
            TokenHash = record.TokenHash,
            AgentKind = KindName(record.Identity.Kind),
            AgentId = record.Identity.Id,
            CreatedAt = time.GetUtcNow(),
            ExpiresAt = record.ExpiresAt,
            ConsumedAt = record.ConsumedAt,
        });
        await db.SaveChangesAsync(cancellationToken);
    }

    public async Task<(JoinTokenConsumeStatus Status, AgentIdentity? Identity)> ConsumeAsync(string tokenHash, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<PitrixDbContext>();
        var consumed = await db.AgentJoinTokens
            .Where(t => t.TokenHash == tokenHash && t.ConsumedAt == null && t.ExpiresAt > now)
            .ExecuteUpdateAsync(s => s.SetProperty(t => t.ConsumedAt, now), cancellationToken);
        var token = await db.AgentJoinTokens.AsNoTracking().FirstOrDefaultAsync(t => t.TokenHash == tokenHash, cancellationToken);
        if (token is null)
        {
            return (JoinTokenConsumeStatus.Unknown, null);
        }

        if (consumed == 1)
        {
            return (JoinTokenConsumeStatus.Consumed, AgentIdentity.Create(ParseKind(token.AgentKind), token.AgentId));
        }

        return token.ConsumedAt is not null ? (JoinTokenConsumeStatus.AlreadyUsed, null) : (JoinTokenConsumeStatus.Expired, null);
    }

    internal static string KindName(AgentKind kind) => kind switch
    {
        AgentKind.Node => AgentKinds.Node,
        AgentKind.Frontgate => AgentKinds.Frontgate,
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "Join tokens are issued for nodes and frontgates only."),
    };

    internal static AgentKind ParseKind(string kind) => kind switch
    {
        AgentKinds.Node => AgentKind.Node,
        AgentKinds.Frontgate => AgentKind.Frontgate,
        _ => throw new ArgumentException($"'{kind}' is not an agent kind join tokens are issued for; use '{AgentKinds.Node}' or '{AgentKinds.Frontgate}'.", nameof(kind)),
    };
}
