using Pitrix.Api.Auditing;
using Pitrix.Core.Identity;

namespace Pitrix.Api.Endpoints;

public sealed record LoginRequest(string? Username, string? Password);

public sealed record RefreshRequest(string? RefreshToken);

public sealed record TokenResponse(string AccessToken, string TokenType, int ExpiresIn, DateTimeOffset ExpiresAt, string RefreshToken, UserDto User);

public sealed record UserDto(
    string Id,
    string Name,
    string? DisplayName,
    string? Email,
    bool Disabled,
    IReadOnlyList<string> Roles,
    IReadOnlyList<string> GroupIds,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt) : IHasId
{
    public static UserDto From(User user) => new(
        user.Id,
        user.Name,
        user.DisplayName,
        user.Email,
        user.Disabled,
        [.. user.Roles.Select(r => r.Role).Order(StringComparer.Ordinal)],
        [.. user.Groups.Select(g => g.GroupId).Order(StringComparer.Ordinal)],
        user.CreatedAt,
        user.UpdatedAt);
}

public sealed record CreateUserRequest(string? Name, string? Password, string? DisplayName, string? Email, IReadOnlyList<string>? Roles, IReadOnlyList<string>? GroupIds);

public sealed record UpdateUserRequest(string? DisplayName, string? Email, bool? Disabled, string? Password);

public sealed record SetRolesRequest(IReadOnlyList<string>? Roles);

public sealed record ChangePasswordRequest(string? CurrentPassword, string? NewPassword);

public sealed record GroupDto(string Id, string Name, string? Description, string? ParentId, IReadOnlyList<string>? MemberIds, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt) : IHasId
{
    public static GroupDto From(Group group, IReadOnlyList<string>? members = null) =>
        new(group.Id, group.Name, group.Description, group.ParentId, members, group.CreatedAt, group.UpdatedAt);
}

public sealed record CreateGroupRequest(string? Name, string? Description, string? ParentId);

public sealed record UpdateGroupRequest(string? Name, string? Description, string? ParentId);

public sealed record ApiTokenDto(string Id, string Name, string Prefix, DateTimeOffset CreatedAt, DateTimeOffset? ExpiresAt, DateTimeOffset? LastUsedAt, DateTimeOffset? RevokedAt) : IHasId
{
    public static ApiTokenDto From(ApiToken token) => new(token.Id, token.Name, token.Prefix, token.CreatedAt, token.ExpiresAt, token.LastUsedAt, token.RevokedAt);
}

/// <summary>The one response that contains a personal API token in clear; it is never shown again.</summary>
public sealed record CreatedApiTokenDto(string Id, string Name, string Token, DateTimeOffset CreatedAt, DateTimeOffset? ExpiresAt) : IHasId;

public sealed record CreateApiTokenRequest(string? Name, int? ExpiresInDays);
