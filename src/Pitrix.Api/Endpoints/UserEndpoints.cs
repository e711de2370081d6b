using System.Linq.Expressions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;
using Microsoft.EntityFrameworkCore;
using Pitrix.Api.Auditing;
using Pitrix.Api.Http;
using Pitrix.Api.Security;
using Pitrix.Core;
using Pitrix.Core.Identity;
using Pitrix.Persistence;

namespace Pitrix.Api.Endpoints;

/// <summary>User administration and role bindings (admins only).</summary>
public static class UserEndpoints
{
    private static readonly Dictionary<string, Expression<Func<User, object?>>> SortKeys = new(StringComparer.Ordinal)
    {
        ["name"] = u => u.NormalizedName,
        ["created_at"] = u => u.CreatedAt,
    };

    public static void MapUserEndpoints(this IEndpointRouteBuilder api)
    {
        var users = api.MapGroup("/users").WithTags("Users").RequireAuthorization(ApiPolicies.Admin).WithMetadata(new ResourceTypeMetadata("user"));
        users.MapGet("/", ListAsync).WithName("user.list");
        users.MapPost("/", CreateAsync).WithName("user.create");
        users.MapGet("/{id}", GetAsync).WithName("user.get");
        users.MapPatch("/{id}", UpdateAsync).WithName("user.update");
        users.MapDelete("/{id}", DeleteAsync).WithName("user.delete");
        users.MapPut("/{id}/roles", SetRolesAsync).WithName("user.set_roles");
    }

    private static IQueryable<User> Users(PitrixDbContext db) => db.Users.Include(u => u.Roles).Include(u => u.Groups).AsSplitQuery();

    private static async Task<Results<Ok<Page<UserDto>>, ProblemHttpResult>> ListAsync(
        ListQuery list, string? role, bool? disabled, [FromQuery(Name = "group_id")] string? groupId, PitrixDbContext db, CancellationToken cancellationToken)
    {
        if (list.Validate(SortKeys.Keys) is { } invalid)
        {
            return Problems.From(invalid);
        }

        var query = Users(db).AsNoTracking();
        if (list.Q is { } q)
        {
            var term = q.ToLowerInvariant();
            query = query.Where(u => u.NormalizedName.Contains(term) || (u.Email != null && u.Email.ToLower().Contains(term)) || (u.DisplayName != null && u.DisplayName.ToLower().Contains(term)));
        }

        if (role is not null)
        {
            query = query.Where(u => u.Roles.Any(r => r.Role == role));
        }

        if (disabled is { } d)
        {
            query = query.Where(u => u.Disabled == d);
        }

        if (groupId is not null)
        {
            query = query.Where(u => u.Groups.Any(g => g.GroupId == groupId));
        }

        return TypedResults.Ok(await query.ToPageAsync(list, SortKeys, UserDto.From, cancellationToken));
    }

    private static async Task<Results<Ok<UserDto>, ProblemHttpResult>> GetAsync(string id, PitrixDbContext db, CancellationToken cancellationToken)
    {
        var user = await Users(db).AsNoTracking().SingleOrDefaultAsync(u => u.Id == id, cancellationToken);
        return user is null ? Problems.From(Error.NotFound("user", id)) : TypedResults.Ok(UserDto.From(user));
    }

    private static async Task<Results<Created<UserDto>, ProblemHttpResult>> CreateAsync(
        CreateUserRequest request, PitrixDbContext db, PasswordPolicy passwords, TimeProvider time, CancellationToken cancellationToken)
    {
        var errors = new FieldErrors().Name("name", request.Name).MaxLength("display_name", request.DisplayName, 128).MaxLength("email", request.Email, 256);
        passwords.Check(errors, "password", request.Password);
        CheckRoles(errors, request.Roles);
        var groupIds = request.GroupIds?.Distinct(StringComparer.Ordinal).ToList() ?? [];
        if (groupIds.Count > 0)
        {
            var known = await db.Groups.Where(g => groupIds.Contains(g.Id)).Select(g => g.Id).ToListAsync(cancellationToken);
            foreach (var missing in groupIds.Except(known))
            {
                errors.Add("group_ids", $"Group '{missing}' does not exist.");
            }
        }

        if (errors.ToError() is { } invalid)
        {
            return Problems.From(invalid);
        }

        var normalized = request.Name!.ToLowerInvariant();
        if (await db.Users.AnyAsync(u => u.NormalizedName == normalized, cancellationToken))
        {
            return Problems.From(Error.Conflict("user.name_taken", $"A user named '{request.Name}' already exists."));
        }

        var now = time.GetUtcNow();
        var user = new User
        {
            Id = Id.New(IdPrefix.User),
            Name = request.Name,
            NormalizedName = normalized,
            DisplayName = request.DisplayName,
            Email = request.Email,
            PasswordHash = "",
            CreatedAt = now,
            UpdatedAt = now,
        };
        user.PasswordHash = passwords.Hash(user, request.Password!);
        foreach (var role in (request.Roles ?? [Role.User]).Distinct(StringComparer.Ordinal))
        {
            user.Roles.Add(new UserRole { UserId = user.Id, Role = role });
        }

        foreach (var groupId in groupIds)
        {
            user.Groups.Add(new GroupMember { GroupId = groupId, UserId = user.Id, AddedAt = now });
        }

        db.Users.Add(user);
        await db.SaveChangesAsync(cancellationToken);
        return TypedResults.Created($"/api/v1/users/{user.Id}", UserDto.From(user));
    }

    private static async Task<Results<Ok<UserDto>, ProblemHttpResult>> UpdateAsync(
        string id, UpdateUserRequest request, Caller caller, PitrixDbContext db, PasswordPolicy passwords, TimeProvider time, CancellationToken cancellationToken)
    {
        var errors = new FieldErrors().MaxLength("display_name", request.DisplayName, 128).MaxLength("email", request.Email, 256);
        if (request.Password is not null)
        {
            passwords.Check(errors, "password", request.Password);
        }

        if (errors.ToError() is { } invalid)
        {
            return Problems.From(invalid);
        }

        var user = await Users(db).SingleOrDefaultAsync(u => u.Id == id, cancellationToken);
        if (user is null)
        {
            return Problems.From(Error.NotFound("user", id));
        }

        if (request.Disabled == true && user.Id == caller.UserId)
        {
            return Problems.From(Error.Conflict("user.cannot_disable_self", "You cannot disable your own account."));
        }

        var now = time.GetUtcNow();
        user.DisplayName = request.DisplayName ?? user.DisplayName;
        user.Email = request.Email ?? user.Email;
        if (request.Password is not null)
        {
            user.PasswordHash = passwords.Hash(user, request.Password);
        }

        if (request.Disabled is { } disabled && disabled != user.Disabled)
        {
            user.Disabled = disabled;
        }

        if (request.Password is not null || request.Disabled == true)
        {
            // A reset password or a disabled account ends every sign-in of that user.
            await db.Sessions.Where(s => s.UserId == user.Id && s.RevokedAt == null).ExecuteUpdateAsync(s => s.SetProperty(x => x.RevokedAt, now), cancellationToken);
        }

        user.UpdatedAt = now;
        await db.SaveChangesAsync(cancellationToken);
        return TypedResults.Ok(UserDto.From(user));
    }

    private static async Task<Results<Ok<UserDto>, ProblemHttpResult>> SetRolesAsync(
        string id, SetRolesRequest request, Caller caller, PitrixDbContext db, TimeProvider time, CancellationToken cancellationToken)
    {
        var errors = new FieldErrors();
        if (request.Roles is null)
        {
            errors.Add("roles", "Required.");
        }

        CheckRoles(errors, request.Roles);
        if (errors.ToError() is { } invalid)
        {
            return Problems.From(invalid);
        }

        var user = await Users(db).SingleOrDefaultAsync(u => u.Id == id, cancellationToken);
        if (user is null)
        {
            return Problems.From(Error.NotFound("user", id));
        }

        var wanted = request.Roles!.ToHashSet(StringComparer.Ordinal);
        if (user.Roles.Any(r => r.Role == Role.Admin) && !wanted.Contains(Role.Admin) && !await OtherActiveAdminExistsAsync(db, user.Id, cancellationToken))
        {
            return Problems.From(Error.Conflict("user.last_admin", "This is the last active admin; make someone else admin first."));
        }

        user.Roles.RemoveAll(r => !wanted.Contains(r.Role));
        foreach (var role in wanted.Where(r => user.Roles.All(x => x.Role != r)))
        {
            user.Roles.Add(new UserRole { UserId = user.Id, Role = role });
        }

        user.UpdatedAt = time.GetUtcNow();
        await db.SaveChangesAsync(cancellationToken);
        return TypedResults.Ok(UserDto.From(user));
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> DeleteAsync(string id, Caller caller, PitrixDbContext db, CancellationToken cancellationToken)
    {
        var user = await db.Users.SingleOrDefaultAsync(u => u.Id == id, cancellationToken);
        if (user is null)
        {
            return Problems.From(Error.NotFound("user", id));
        }

        if (user.Id == caller.UserId)
        {
            return Problems.From(Error.Conflict("user.cannot_delete_self", "You cannot delete your own account."));
        }

        if (await db.Runtimes.AnyAsync(r => r.OwnerId == id, cancellationToken) || await db.RuntimeCredentials.AnyAsync(c => c.OwnerId == id, cancellationToken))
        {
            return Problems.From(Error.Conflict("user.owns_resources", "The user still owns runtimes or credentials; delete them, or disable the user instead."));
        }

        db.Users.Remove(user);
        await db.SaveChangesAsync(cancellationToken);
        return TypedResults.NoContent();
    }

    private static void CheckRoles(FieldErrors errors, IReadOnlyList<string>? roles)
    {
        foreach (var role in roles ?? [])
        {
            if (!Role.IsKnown(role))
            {
                errors.Add("roles", $"Unknown role '{role}'; roles are {string.Join(", ", Role.All)}.");
            }
        }
    }

    private static Task<bool> OtherActiveAdminExistsAsync(PitrixDbContext db, string userId, CancellationToken cancellationToken) =>
        db.Users.AnyAsync(u => u.Id != userId && !u.Disabled && u.Roles.Any(r => r.Role == Role.Admin), cancellationToken);
}
