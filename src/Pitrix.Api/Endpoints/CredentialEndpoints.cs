using System.Linq.Expressions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.EntityFrameworkCore;
using Pitrix.Api.Auditing;
using Pitrix.Api.Http;
using Pitrix.Api.Security;
using Pitrix.Core;
using Pitrix.Core.Access;
using Pitrix.Core.Runtimes;
using Pitrix.Persistence;

namespace Pitrix.Api.Endpoints;

/// <summary>Runtime credentials. Secrets are write-only: encrypted on the way in, never returned.</summary>
public static class CredentialEndpoints
{
    public const int MaxSecretLength = 256 * 1024;
    private const string ResourceType = "credential";

    private static readonly Dictionary<string, Expression<Func<RuntimeCredential, object?>>> SortKeys = new(StringComparer.Ordinal)
    {
        ["name"] = c => c.Name,
        ["created_at"] = c => c.CreatedAt,
        ["provider"] = c => c.Provider,
    };

    public static void MapCredentialEndpoints(this IEndpointRouteBuilder api)
    {
        var credentials = api.MapGroup("/credentials").WithTags("Credentials").WithMetadata(new ResourceTypeMetadata(ResourceType));
        credentials.MapGet("/", ListAsync).WithName("credential.list");
        credentials.MapPost("/", CreateAsync).WithName("credential.create");
        credentials.MapGet("/{id}", GetAsync).WithName("credential.get");
        credentials.MapPatch("/{id}", UpdateAsync).WithName("credential.update");
        credentials.MapDelete("/{id}", DeleteAsync).WithName("credential.delete");
    }

    private static async Task<Results<Ok<Page<CredentialDto>>, ProblemHttpResult>> ListAsync(
        ListQuery list, string? provider, Caller caller, PitrixDbContext db, CancellationToken cancellationToken)
    {
        if (list.Validate(SortKeys.Keys) is { } invalid)
        {
            return Problems.From(invalid);
        }

        var query = db.RuntimeCredentials.AsNoTracking().ReadableBy(caller.Principal);
        if (provider is not null)
        {
            query = query.Where(c => c.Provider == provider);
        }

        if (list.Q is { } q)
        {
            query = query.Where(c => c.Name.Contains(q));
        }

        return TypedResults.Ok(await query.ToPageAsync(list, SortKeys, CredentialDto.From, cancellationToken));
    }

    private static async Task<Results<Ok<CredentialDto>, ProblemHttpResult>> GetAsync(string id, Caller caller, PitrixDbContext db, CancellationToken cancellationToken)
    {
        var found = await db.RuntimeCredentials.FindAuthorizedAsync(id, caller, Operation.Read, ResourceType, cancellationToken);
        return found.IsSuccess ? TypedResults.Ok(CredentialDto.From(found.Value!)) : Problems.From(found.Error!);
    }

    private static async Task<Results<Created<CredentialDto>, ProblemHttpResult>> CreateAsync(
        CreateCredentialRequest request, Caller caller, PitrixDbContext db, ProviderRegistry providers, SecretProtector protector, TimeProvider time, CancellationToken cancellationToken)
    {
        var errors = new FieldErrors().Name("name", request.Name).MaxLength("description", request.Description, 1024).Required("secret", request.Secret).MaxLength("secret", request.Secret, MaxSecretLength);
        CheckProvider(errors, providers, request.Provider);
        CheckEndpoint(errors, request.EndpointUrl);
        var visibility = request.Visibility ?? Visibility.Private;
        if (visibility == Visibility.Public)
        {
            errors.Add("visibility", "Credentials are private or shared with a group, never public.");
        }

        if (errors.ToError() is { } invalid)
        {
            return Problems.From(invalid);
        }

        if (AccessPolicy.CheckPlacement(caller.Principal, visibility, request.GroupId) is { } denied)
        {
            return Problems.From(denied);
        }

        if (await db.RuntimeCredentials.AnyAsync(c => c.OwnerId == caller.UserId && c.Name == request.Name, cancellationToken))
        {
            return Problems.From(Error.Conflict("credential.name_taken", $"You already have a credential named '{request.Name}'."));
        }

        var now = time.GetUtcNow();
        var credential = new RuntimeCredential
        {
            Id = Id.New(IdPrefix.Credential),
            Name = request.Name!,
            Description = request.Description,
            Provider = request.Provider!,
            EndpointUrl = request.EndpointUrl,
            SecretCiphertext = protector.Protect(request.Secret!),
            OwnerId = caller.UserId,
            GroupId = request.GroupId,
            Visibility = visibility,
            CreatedAt = now,
            UpdatedAt = now,
            SecretUpdatedAt = now,
        };
        db.RuntimeCredentials.Add(credential);
        await db.SaveChangesAsync(cancellationToken);
        return TypedResults.Created($"/api/v1/credentials/{credential.Id}", CredentialDto.From(credential));
    }

    private static async Task<Results<Ok<CredentialDto>, ProblemHttpResult>> UpdateAsync(
        string id, UpdateCredentialRequest request, Caller caller, PitrixDbContext db, SecretProtector protector, TimeProvider time, CancellationToken cancellationToken)
    {
        var errors = new FieldErrors().MaxLength("description", request.Description, 1024).MaxLength("secret", request.Secret, MaxSecretLength);
        if (request.Name is not null)
        {
            errors.Name("name", request.Name);
        }

        if (request.Secret is { Length: 0 })
        {
            errors.Add("secret", "Cannot be empty; omit it to keep the current secret.");
        }

        CheckEndpoint(errors, request.EndpointUrl);
        if (request.Visibility == Visibility.Public)
        {
            errors.Add("visibility", "Credentials are private or shared with a group, never public.");
        }

        if (errors.ToError() is { } invalid)
        {
            return Problems.From(invalid);
        }

        var found = await db.RuntimeCredentials.FindAuthorizedAsync(id, caller, Operation.Write, ResourceType, cancellationToken);
        if (!found.IsSuccess)
        {
            return Problems.From(found.Error!);
        }

        var credential = found.Value!;
        var visibility = request.Visibility ?? credential.Visibility;
        var groupId = request.GroupId ?? credential.GroupId;
        if ((request.Visibility is not null || request.GroupId is not null) && AccessPolicy.CheckPlacement(caller.Principal, visibility, groupId) is { } denied)
        {
            return Problems.From(denied);
        }

        if (request.Name is not null && request.Name != credential.Name
            && await db.RuntimeCredentials.AnyAsync(c => c.OwnerId == credential.OwnerId && c.Name == request.Name, cancellationToken))
        {
            return Problems.From(Error.Conflict("credential.name_taken", $"A credential named '{request.Name}' already exists."));
        }

        var now = time.GetUtcNow();
        credential.Name = request.Name ?? credential.Name;
        credential.Description = request.Description ?? credential.Description;
        credential.EndpointUrl = request.EndpointUrl ?? credential.EndpointUrl;
        credential.Visibility = visibility;
        credential.GroupId = groupId;
        if (request.Secret is not null)
        {
            credential.SecretCiphertext = protector.Protect(request.Secret);
            credential.SecretUpdatedAt = now;
        }

        credential.UpdatedAt = now;
        await db.SaveChangesAsync(cancellationToken);
        return TypedResults.Ok(CredentialDto.From(credential));
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> DeleteAsync(string id, Caller caller, PitrixDbContext db, CancellationToken cancellationToken)
    {
        var found = await db.RuntimeCredentials.FindAuthorizedAsync(id, caller, Operation.Delete, ResourceType, cancellationToken);
        if (!found.IsSuccess)
        {
            return Problems.From(found.Error!);
        }

        if (await db.Runtimes.AnyAsync(r => r.CredentialId == id, cancellationToken))
        {
            return Problems.From(Error.Conflict("credential.in_use", "Runtimes still use this credential; delete them or switch them to another credential first."));
        }

        db.RuntimeCredentials.Remove(found.Value!);
        await db.SaveChangesAsync(cancellationToken);
        return TypedResults.NoContent();
    }

    internal static void CheckProvider(FieldErrors errors, ProviderRegistry providers, string? provider)
    {
        if (string.IsNullOrWhiteSpace(provider))
        {
            errors.Add("provider", "Required.");
        }
        else if (providers.Find(provider) is null)
        {
            errors.Add("provider", $"Unknown provider '{provider}'; available: {string.Join(", ", providers.All.Select(p => p.Name).Order(StringComparer.Ordinal))}.");
        }
    }

    private static void CheckEndpoint(FieldErrors errors, string? url)
    {
        if (url is not null && (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https") || url.Length > 2048))
        {
            errors.Add("endpoint_url", "Must be an absolute http:// or https:// URL.");
        }
    }
}
