namespace Pitrix.Core.Access;

/// <summary>Who besides the owner may see a resource.</summary>
public enum Visibility
{
    /// <summary>The owner (and admins) only.</summary>
    Private,

    /// <summary>Members of the resource's group and of its subgroups.</summary>
    Group,

    /// <summary>Every signed-in user.</summary>
    Public,
}

/// <summary>A resource that access decisions are made on.</summary>
public interface IOwnedResource
{
    string Id { get; }

    string OwnerId { get; }

    string? GroupId { get; }

    Visibility Visibility { get; }
}

/// <summary>A resource shared with several groups (and their subgroups) when its visibility is <see cref="Visibility.Group"/>.</summary>
public interface ISharedWithGroups
{
    IReadOnlyCollection<string> SharedGroupIds { get; }
}

/// <summary>What a caller wants to do with a resource.</summary>
public enum Operation
{
    Read,

    /// <summary>Reference the resource from another one (a runtime using a credential, a cluster using a runtime).</summary>
    Use,
    Write,
    Delete,
}
