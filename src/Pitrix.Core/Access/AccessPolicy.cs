using Pitrix.Core.Identity;

namespace Pitrix.Core.Access;

/// <summary>
/// The one place that decides whether a principal may perform an operation on a resource.
/// Every endpoint goes through it; none carries its own ownership checks.
/// </summary>
public static class AccessPolicy
{
    public static bool CanRead(Principal principal, IOwnedResource resource) =>
        CanManage(principal, resource)
        || resource.Visibility == Visibility.Public
        || (resource.Visibility == Visibility.Group && resource.GroupId is not null && principal.ReadableGroupIds.Contains(resource.GroupId))
        || (resource.Visibility == Visibility.Group && resource is ISharedWithGroups shared && shared.SharedGroupIds.Any(principal.ReadableGroupIds.Contains));

    public static bool CanManage(Principal principal, IOwnedResource resource) =>
        principal.IsAdmin
        || resource.OwnerId == principal.UserId
        || (principal.HasRole(Role.Isv) && resource.GroupId is not null && principal.ManagedGroupIds.Contains(resource.GroupId));

    /// <summary>
    /// Checks <paramref name="operation"/>. A resource the caller may not even read is reported as not
    /// found, so ids of other users' private resources reveal nothing; a readable one that may not be
    /// changed is forbidden.
    /// </summary>
    public static Error? Check(Principal principal, IOwnedResource resource, Operation operation, string resourceType)
    {
        if (!CanRead(principal, resource))
        {
            return Error.NotFound(resourceType, resource.Id);
        }

        return operation switch
        {
            Operation.Read or Operation.Use => null,
            Operation.Write or Operation.Delete when CanManage(principal, resource) => null,
            _ => Error.Forbidden("access.forbidden", $"You may read {resourceType.Replace('_', ' ')} '{resource.Id}' but not {operation.ToString().ToLowerInvariant()} it."),
        };
    }

    /// <summary>
    /// Checks that the caller may give a new or changed resource this visibility and group: public
    /// resources are created by admins only, and a group must be one the caller belongs to or manages.
    /// A resource shared with several groups (<see cref="ISharedWithGroups"/>) passes them as
    /// <paramref name="sharedGroupIds"/>: visibility 'group' then needs those, not an owning group.
    /// </summary>
    public static Error? CheckPlacement(Principal principal, Visibility visibility, string? groupId, IReadOnlyCollection<string>? sharedGroupIds = null)
    {
        if (visibility == Visibility.Public && !principal.IsAdmin)
        {
            return Error.Forbidden("access.public_requires_admin", "Only an admin can make a resource public.");
        }

        if (visibility == Visibility.Group && sharedGroupIds is { Count: 0 })
        {
            return Error.Validation("validation.failed", "Visibility 'group' needs the groups to share with.", new Dictionary<string, string[]> { ["group_ids"] = ["Required when visibility is 'group' (or give group_id)."] });
        }

        if (visibility == Visibility.Group && groupId is null && sharedGroupIds is null)
        {
            return Error.Validation("validation.failed", "Visibility 'group' needs a group.", new Dictionary<string, string[]> { ["group_id"] = ["Required when visibility is 'group'."] });
        }

        if (groupId is not null && !principal.IsAdmin && !principal.MemberGroupIds.Contains(groupId) && !(principal.HasRole(Role.Isv) && principal.ManagedGroupIds.Contains(groupId)))
        {
            return Error.Forbidden("access.group_not_member", $"You are not a member of group '{groupId}'.");
        }

        return null;
    }
}

/// <summary>The query form of <see cref="AccessPolicy.CanRead"/>, for listing only what a caller may see.</summary>
public static class AccessQueries
{
    public static IQueryable<T> ReadableBy<T>(this IQueryable<T> query, Principal principal)
        where T : class, IOwnedResource
    {
        if (principal.IsAdmin)
        {
            return query;
        }

        // Must say the same as AccessPolicy.CanRead, in a form the database can evaluate.
        var userId = principal.UserId;
        var groups = principal.ReadableGroupIds.ToList();
        var managed = principal.HasRole(Role.Isv) ? principal.ManagedGroupIds.ToList() : [];
        return query.Where(r => r.OwnerId == userId
            || r.Visibility == Visibility.Public
            || (r.Visibility == Visibility.Group && r.GroupId != null && groups.Contains(r.GroupId))
            || (r.GroupId != null && managed.Contains(r.GroupId)));
    }
}
