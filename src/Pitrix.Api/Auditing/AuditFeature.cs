namespace Pitrix.Api.Auditing;

/// <summary>
/// What the audit middleware learns while a mutating request runs: the resource it touched (for a
/// create, known only once the handler has run), the error code of a failure, and for sign-in the
/// account that was tried.
/// </summary>
public sealed class AuditFeature
{
    public string? ResourceId { get; set; }

    public string? ErrorCode { get; set; }

    public string? UserId { get; set; }

    public string? UserName { get; set; }
}

/// <summary>Endpoint metadata naming the resource type an endpoint group acts on, for audit entries.</summary>
public sealed record ResourceTypeMetadata(string ResourceType);

/// <summary>DTOs of resources expose their id so the audit log can name what was created.</summary>
public interface IHasId
{
    string Id { get; }
}
