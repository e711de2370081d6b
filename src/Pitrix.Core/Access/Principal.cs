using Pitrix.Core.Identity;

namespace Pitrix.Core.Access;

/// <summary>
/// The caller as access decisions see it: id, roles and the group sets derived from the organization tree.
/// </summary>
public sealed record Principal(
    string UserId,
    string Name,
    IReadOnlySet<string> Roles,
    IReadOnlySet<string> MemberGroupIds,
    IReadOnlySet<string> ReadableGroupIds,
    IReadOnlySet<string> ManagedGroupIds)
{
    public bool IsAdmin => Roles.Contains(Role.Admin);

    public bool HasRole(string role) => Roles.Contains(role);

    /// <summary>
    /// Builds the group sets from the user's direct memberships and the whole tree (child id → parent id).
    /// A member of a group can read what is shared with that group or any of its ancestors (a group's
    /// resources are visible to its subgroups), and an <c>isv</c> manages its groups and their descendants.
    /// </summary>
    public static Principal Create(
        string userId,
        string name,
        IEnumerable<string> roles,
        IEnumerable<string> memberGroupIds,
        IReadOnlyDictionary<string, string?> parentOf)
    {
        var member = memberGroupIds.ToHashSet(StringComparer.Ordinal);
        var readable = new HashSet<string>(StringComparer.Ordinal);
        foreach (var group in member)
        {
            var current = group;
            var guard = 0;
            while (current is not null && readable.Add(current) && guard++ < 1000)
            {
                current = parentOf.TryGetValue(current, out var parent) ? parent : null;
            }
        }

        var managed = new HashSet<string>(member, StringComparer.Ordinal);
        var children = parentOf.Where(p => p.Value is not null).ToLookup(p => p.Value!, p => p.Key, StringComparer.Ordinal);
        var queue = new Queue<string>(member);
        while (queue.Count > 0)
        {
            foreach (var child in children[queue.Dequeue()])
            {
                if (managed.Add(child))
                {
                    queue.Enqueue(child);
                }
            }
        }

        return new Principal(userId, name, roles.ToHashSet(StringComparer.Ordinal), member, readable, managed);
    }
}
