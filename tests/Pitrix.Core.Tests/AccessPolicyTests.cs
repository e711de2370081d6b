using Pitrix.Core.Access;
using Pitrix.Core.Runtimes;
using Xunit;

namespace Pitrix.Core.Tests;

public sealed class AccessPolicyTests
{
    // org ─┬─ team ── squad
    //      └─ other
    private static readonly Dictionary<string, string?> Tree = new()
    {
        ["org"] = null,
        ["team"] = "org",
        ["squad"] = "team",
        ["other"] = "org",
    };

    [Fact]
    public void Create_MemberOfSubgroup_ReadsAncestorsAndManagesDescendants()
    {
        var principal = Principal.Create("u1", "u", ["isv"], ["team"], Tree);
        Assert.Equal(["org", "team"], principal.ReadableGroupIds.Order());
        Assert.Equal(["squad", "team"], principal.ManagedGroupIds.Order());
    }

    [Fact]
    public void Check_GroupResource_ReadableBySubgroupMember_ManagedOnlyByIsvAbove()
    {
        var resource = Runtime("owner", "team", Visibility.Group);
        var squadDeveloper = Principal.Create("dev", "dev", ["developer"], ["squad"], Tree);
        var orgIsv = Principal.Create("isv", "isv", ["isv"], ["org"], Tree);
        var squadIsv = Principal.Create("isv2", "isv2", ["isv"], ["squad"], Tree);
        var outsider = Principal.Create("out", "out", ["isv"], ["other"], Tree);

        Assert.Null(AccessPolicy.Check(squadDeveloper, resource, Operation.Read, "runtime"));
        Assert.Equal("access.forbidden", AccessPolicy.Check(squadDeveloper, resource, Operation.Write, "runtime")?.Code);
        Assert.Null(AccessPolicy.Check(orgIsv, resource, Operation.Delete, "runtime"));
        Assert.Equal("access.forbidden", AccessPolicy.Check(squadIsv, resource, Operation.Write, "runtime")?.Code);
        Assert.Equal("runtime.not_found", AccessPolicy.Check(outsider, resource, Operation.Read, "runtime")?.Code);
    }

    [Fact]
    public void Check_PrivateResource_OnlyOwnerAndAdmin()
    {
        var resource = Runtime("owner", null, Visibility.Private);
        Assert.Null(AccessPolicy.Check(Principal.Create("owner", "o", ["user"], [], Tree), resource, Operation.Delete, "runtime"));
        Assert.Null(AccessPolicy.Check(Principal.Create("root", "r", ["admin"], [], Tree), resource, Operation.Delete, "runtime"));
        Assert.Equal("runtime.not_found", AccessPolicy.Check(Principal.Create("x", "x", ["isv"], ["org"], Tree), resource, Operation.Read, "runtime")?.Code);
    }

    [Fact]
    public void CheckPlacement_PublicNeedsAdmin_GroupNeedsMembership()
    {
        var user = Principal.Create("u", "u", ["developer"], ["team"], Tree);
        Assert.Equal("access.public_requires_admin", AccessPolicy.CheckPlacement(user, Visibility.Public, null)?.Code);
        Assert.Equal("access.group_not_member", AccessPolicy.CheckPlacement(user, Visibility.Group, "other")?.Code);
        Assert.Null(AccessPolicy.CheckPlacement(user, Visibility.Group, "team"));
        Assert.Equal("validation.failed", AccessPolicy.CheckPlacement(user, Visibility.Group, null)?.Code);
    }

    private static Runtime Runtime(string owner, string? group, Visibility visibility) =>
        new() { Id = "rt-1", Name = "r", Provider = "local", Zone = "default", OwnerId = owner, GroupId = group, Visibility = visibility };
}
