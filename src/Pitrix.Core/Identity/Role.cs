namespace Pitrix.Core.Identity;

/// <summary>The platform roles. A user may hold several.</summary>
public static class Role
{
    /// <summary>Operates the platform: sees and manages everything.</summary>
    public const string Admin = "admin";

    /// <summary>Vendor administrator: manages the resources of the groups they belong to and their subgroups.</summary>
    public const string Isv = "isv";

    /// <summary>Publishes and tests apps for their group.</summary>
    public const string Developer = "developer";

    /// <summary>Deploys and operates apps.</summary>
    public const string User = "user";

    public static IReadOnlyList<string> All { get; } = [Admin, Isv, Developer, User];

    public static bool IsKnown(string role) => All.Contains(role, StringComparer.Ordinal);
}
