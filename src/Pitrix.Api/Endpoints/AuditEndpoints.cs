using System.Linq.Expressions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;
using Pitrix.Api.Http;
using Pitrix.Api.Security;
using Pitrix.Core.Audit;
using Pitrix.Persistence;

namespace Pitrix.Api.Endpoints;

public sealed record AuditEntryDto(
    string Id, DateTimeOffset At, string? UserId, string? UserName, string Action, string? ResourceType, string? ResourceId,
    string? Address, string Method, string Path, int StatusCode, string Outcome, string? ErrorCode)
{
    public static AuditEntryDto From(AuditEntry a) =>
        new(a.Id, a.At, a.UserId, a.UserName, a.Action, a.ResourceType, a.ResourceId, a.Address, a.Method, a.Path, a.StatusCode, a.Outcome, a.ErrorCode);
}

/// <summary>The audit log: admins see every entry, everyone else their own.</summary>
public static class AuditEndpoints
{
    private static readonly Dictionary<string, Expression<Func<AuditEntry, object?>>> SortKeys = new(StringComparer.Ordinal)
    {
        ["at"] = a => a.At,
        ["action"] = a => a.Action,
    };

    public static void MapAuditEndpoints(this IEndpointRouteBuilder api) =>
        api.MapGet("/audit", ListAsync).WithTags("Audit").WithName("audit.list");

    private static async Task<Results<Ok<Page<AuditEntryDto>>, ProblemHttpResult>> ListAsync(
        ListQuery list,
        [FromQuery(Name = "user_id")] string? userId,
        string? action,
        [FromQuery(Name = "resource_type")] string? resourceType,
        [FromQuery(Name = "resource_id")] string? resourceId,
        string? outcome,
        DateTimeOffset? since,
        DateTimeOffset? until,
        Caller caller,
        PitrixDbContext db,
        CancellationToken cancellationToken)
    {
        if (list.Validate(SortKeys.Keys) is { } invalid)
        {
            return Problems.From(invalid);
        }

        var query = db.AuditEntries.AsQueryable();
        if (!caller.Principal.IsAdmin)
        {
            query = query.Where(a => a.UserId == caller.UserId);
        }

        if (userId is not null)
        {
            query = query.Where(a => a.UserId == userId);
        }

        if (action is not null)
        {
            query = query.Where(a => a.Action == action);
        }

        if (resourceType is not null)
        {
            query = query.Where(a => a.ResourceType == resourceType);
        }

        if (resourceId is not null)
        {
            query = query.Where(a => a.ResourceId == resourceId);
        }

        if (outcome is not null)
        {
            query = query.Where(a => a.Outcome == outcome);
        }

        if (since is { } from)
        {
            query = query.Where(a => a.At >= from);
        }

        if (until is { } to)
        {
            query = query.Where(a => a.At < to);
        }

        if (list.Q is { } q)
        {
            query = query.Where(a => a.Path.Contains(q) || a.Action.Contains(q));
        }

        // Newest first unless asked otherwise.
        var page = await query.ToPageAsync(list with { Sort = list.Sort ?? "-at" }, SortKeys, AuditEntryDto.From, cancellationToken);
        return TypedResults.Ok(page);
    }
}
