using System.Linq.Expressions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;
using Microsoft.EntityFrameworkCore;
using Pitrix.Api.Auditing;
using Pitrix.Api.Http;
using Pitrix.Core;
using Pitrix.Core.Identity;
using Pitrix.Persistence;

namespace Pitrix.Api.Endpoints;

/// <summary>The organization tree and its memberships (admins only).</summary>
public static class GroupEndpoints
{
    private static readonly Dictionary<string, Expression<Func<Group, object?>>> SortKeys = new(StringComparer.Ordinal)
    {
        ["name"] = g => g.NormalizedName,
        ["created_at"] = g => g.CreatedAt,
    };

    public static void MapGroupEndpoints(this IEndpointRouteBuilder api)
    {
        var groups = api.MapGroup("/groups").WithTags("Groups").RequireAuthorization(ApiPolicies.Admin).WithMetadata(new ResourceTypeMetadata("group"));
        groups.MapGet("/", ListAsync).WithName("group.list");
        groups.MapPost("/", CreateAsync).WithName("group.create");
        groups.MapGet("/{id}", GetAsync).WithName("group.get");
        groups.MapPatch("/{id}", UpdateAsync).WithName("group.update");
        groups.MapDelete("/{id}", DeleteAsync).WithName("group.delete");
        groups.MapPut("/{id}/members/{userId}", AddMemberAsync).WithName("group.add_member");
        groups.MapDelete("/{id}/members/{userId}", RemoveMemberAsync).WithName("group.remove_member");
    }

    private static async Task<Results<Ok<Page<GroupDto>>, ProblemHttpResult>> ListAsync(ListQuery list, [FromQuery(Name = "parent_id")] string? parentId, PitrixDbContext db, CancellationToken cancellationToken)
    {
        if (list.Validate(SortKeys.Keys) is { } invalid)
        {
            return Problems.From(invalid);
        }

        var query = db.Groups.AsNoTracking();
        if (list.Q is { } q)
        {
            var term = q.ToLowerInvariant();
            query = query.Where(g => g.NormalizedName.Contains(term));
        }

        if (parentId is not null)
        {
            query = query.Where(g => g.ParentId == parentId);
        }

        return TypedResults.Ok(await query.ToPageAsync(list, SortKeys, g => GroupDto.From(g), cancellationToken));
    }

    private static async Task<Results<Ok<GroupDto>, ProblemHttpResult>> GetAsync(string id, PitrixDbContext db, CancellationToken cancellationToken)
    {
        var group = await db.Groups.AsNoTracking().SingleOrDefaultAsync(g => g.Id == id, cancellationToken);
        if (group is null)
        {
            return Problems.From(Error.NotFound("group", id));
        }

        var members = await db.GroupMembers.Where(m => m.GroupId == id).Select(m => m.UserId).OrderBy(m => m).ToListAsync(cancellationToken);
        return TypedResults.Ok(GroupDto.From(group, members));
    }

    private static async Task<Results<Created<GroupDto>, ProblemHttpResult>> CreateAsync(CreateGroupRequest request, PitrixDbContext db, TimeProvider time, CancellationToken cancellationToken)
    {
        var errors = new FieldErrors().Name("name", request.Name).MaxLength("description", request.Description, 1024);
        if (request.ParentId is not null && !await db.Groups.AnyAsync(g => g.Id == request.ParentId, cancellationToken))
        {
            errors.Add("parent_id", $"Group '{request.ParentId}' does not exist.");
        }

        if (errors.ToError() is { } invalid)
        {
            return Problems.From(invalid);
        }

        var normalized = request.Name!.ToLowerInvariant();
        if (await db.Groups.AnyAsync(g => g.NormalizedName == normalized, cancellationToken))
        {
            return Problems.From(Error.Conflict("group.name_taken", $"A group named '{request.Name}' already exists."));
        }

        var now = time.GetUtcNow();
        var group = new Group { Id = Id.New(IdPrefix.Group), Name = request.Name, NormalizedName = normalized, Description = request.Description, ParentId = request.ParentId, CreatedAt = now, UpdatedAt = now };
        db.Groups.Add(group);
        await db.SaveChangesAsync(cancellationToken);
        return TypedResults.Created($"/api/v1/groups/{group.Id}", GroupDto.From(group, []));
    }

    private static async Task<Results<Ok<GroupDto>, ProblemHttpResult>> UpdateAsync(string id, UpdateGroupRequest request, PitrixDbContext db, TimeProvider time, CancellationToken cancellationToken)
    {
        var errors = new FieldErrors().MaxLength("description", request.Description, 1024);
        if (request.Name is not null)
        {
            errors.Name("name", request.Name);
        }

        if (errors.ToError() is { } invalid)
        {
            return Problems.From(invalid);
        }

        var group = await db.Groups.SingleOrDefaultAsync(g => g.Id == id, cancellationToken);
        if (group is null)
        {
            return Problems.From(Error.NotFound("group", id));
        }

        if (request.Name is not null && !string.Equals(request.Name, group.Name, StringComparison.Ordinal))
        {
            var normalized = request.Name.ToLowerInvariant();
            if (await db.Groups.AnyAsync(g => g.NormalizedName == normalized && g.Id != id, cancellationToken))
            {
                return Problems.From(Error.Conflict("group.name_taken", $"A group named '{request.Name}' already exists."));
            }

            group.Name = request.Name;
            group.NormalizedName = normalized;
        }

        if (request.ParentId is not null && request.ParentId != group.ParentId)
        {
            var parents = await db.Groups.AsNoTracking().ToDictionaryAsync(g => g.Id, g => g.ParentId, cancellationToken);
            if (!parents.ContainsKey(request.ParentId))
            {
                return Problems.From(Error.Validation("validation.failed", "One or more fields are invalid.", new Dictionary<string, string[]> { ["parent_id"] = [$"Group '{request.ParentId}' does not exist."] }));
            }

            for (string? current = request.ParentId; current is not null; current = parents[current])
            {
                if (current == id)
                {
                    return Problems.From(Error.Conflict("group.cycle", "A group cannot be moved under itself or one of its subgroups."));
                }
            }

            group.ParentId = request.ParentId;
        }

        group.Description = request.Description ?? group.Description;
        group.UpdatedAt = time.GetUtcNow();
        await db.SaveChangesAsync(cancellationToken);
        return TypedResults.Ok(GroupDto.From(group));
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> DeleteAsync(string id, PitrixDbContext db, CancellationToken cancellationToken)
    {
        var group = await db.Groups.SingleOrDefaultAsync(g => g.Id == id, cancellationToken);
        if (group is null)
        {
            return Problems.From(Error.NotFound("group", id));
        }

        if (await db.Groups.AnyAsync(g => g.ParentId == id, cancellationToken))
        {
            return Problems.From(Error.Conflict("group.has_subgroups", "Delete or move the group's subgroups first."));
        }

        if (await db.Runtimes.AnyAsync(r => r.GroupId == id, cancellationToken) || await db.RuntimeCredentials.AnyAsync(c => c.GroupId == id, cancellationToken))
        {
            return Problems.From(Error.Conflict("group.has_resources", "Runtimes or credentials are still shared with this group."));
        }

        db.Groups.Remove(group);
        await db.SaveChangesAsync(cancellationToken);
        return TypedResults.NoContent();
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> AddMemberAsync(string id, string userId, PitrixDbContext db, TimeProvider time, CancellationToken cancellationToken)
    {
        if (!await db.Groups.AnyAsync(g => g.Id == id, cancellationToken))
        {
            return Problems.From(Error.NotFound("group", id));
        }

        if (!await db.Users.AnyAsync(u => u.Id == userId, cancellationToken))
        {
            return Problems.From(Error.NotFound("user", userId));
        }

        if (!await db.GroupMembers.AnyAsync(m => m.GroupId == id && m.UserId == userId, cancellationToken))
        {
            db.GroupMembers.Add(new GroupMember { GroupId = id, UserId = userId, AddedAt = time.GetUtcNow() });
            await db.SaveChangesAsync(cancellationToken);
        }

        return TypedResults.NoContent();
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> RemoveMemberAsync(string id, string userId, PitrixDbContext db, CancellationToken cancellationToken)
    {
        var member = await db.GroupMembers.SingleOrDefaultAsync(m => m.GroupId == id && m.UserId == userId, cancellationToken);
        if (member is null)
        {
            return Problems.From(new Error(ErrorKind.NotFound, "group_member.not_found", $"User '{userId}' is not a member of group '{id}'."));
        }

        db.GroupMembers.Remove(member);
        await db.SaveChangesAsync(cancellationToken);
        return TypedResults.NoContent();
    }
}
