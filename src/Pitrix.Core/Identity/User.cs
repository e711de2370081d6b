namespace Pitrix.Core.Identity;

public sealed class User
{
    public required string Id { get; init; }

    public required string Name { get; set; }

    /// <summary>Lower-cased <see cref="Name"/>, unique: user names are case-insensitive.</summary>
    public required string NormalizedName { get; set; }

    public string? DisplayName { get; set; }

    public string? Email { get; set; }

    public required string PasswordHash { get; set; }

    public bool Disabled { get; set; }

    public DateTimeOffset CreatedAt { get; init; }

    public DateTimeOffset UpdatedAt { get; set; }

    public List<UserRole> Roles { get; init; } = [];

    public List<GroupMember> Groups { get; init; } = [];
}

/// <summary>A role binding: the user holds <see cref="Role"/> across the platform.</summary>
public sealed class UserRole
{
    public required string UserId { get; init; }

    public required string Role { get; init; }
}

/// <summary>A node of the organization tree.</summary>
public sealed class Group
{
    public required string Id { get; init; }

    public required string Name { get; set; }

    public required string NormalizedName { get; set; }

    public string? Description { get; set; }

    public string? ParentId { get; set; }

    public DateTimeOffset CreatedAt { get; init; }

    public DateTimeOffset UpdatedAt { get; set; }
}

public sealed class GroupMember
{
    public required string GroupId { get; init; }

    public required string UserId { get; init; }

    public DateTimeOffset AddedAt { get; init; }
}

/// <summary>A sign-in: holds the hash of the current refresh token; revoking it ends every access token issued for it.</summary>
public sealed class Session
{
    public required string Id { get; init; }

    public required string UserId { get; init; }

    public required string RefreshTokenHash { get; set; }

    /// <summary>Hash of the refresh token this one replaced; presenting it again means it was stolen.</summary>
    public string? PreviousRefreshTokenHash { get; set; }

    public DateTimeOffset CreatedAt { get; init; }

    public DateTimeOffset ExpiresAt { get; set; }

    public DateTimeOffset? RevokedAt { get; set; }

    public string? Address { get; init; }
}

/// <summary>A long-lived personal API token; only its SHA-256 hash is stored.</summary>
public sealed class ApiToken
{
    public required string Id { get; init; }

    public required string UserId { get; init; }

    public required string Name { get; set; }

    public required string TokenHash { get; init; }

    /// <summary>The first characters of the token, shown so a user can tell tokens apart.</summary>
    public required string Prefix { get; init; }

    public DateTimeOffset CreatedAt { get; init; }

    public DateTimeOffset? ExpiresAt { get; init; }

    public DateTimeOffset? LastUsedAt { get; set; }

    public DateTimeOffset? RevokedAt { get; set; }
}
