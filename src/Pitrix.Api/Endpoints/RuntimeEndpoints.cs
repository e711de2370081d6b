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
using Pitrix.Core.Access;
using Pitrix.Core.Runtimes;
using Pitrix.Persistence;

namespace Pitrix.Api.Endpoints;

/// <summary>Runtimes (deploy targets) and the registered providers.</summary>
public static class RuntimeEndpoints
{
    private const string ResourceType = "runtime";

    private static readonly Dictionary<string, Expression<Func<Runtime, object?>>> SortKeys = new(StringComparer.Ordinal)
    {
        ["name"] = r => r.Name,
        ["created_at"] = r => r.CreatedAt,
        ["provider"] = r => r.Provider,
    };

    public static void MapRuntimeEndpoints(this IEndpointRouteBuilder api)
    {
        api.MapGet("/providers", ListProviders).WithTags("Runtimes").WithName("provider.list");

        var runtimes = api.MapGroup("/runtimes").WithTags("Runtimes").WithMetadata(new ResourceTypeMetadata(ResourceType));
        runtimes.MapGet("/", ListAsync).WithName("runtime.list");
        runtimes.MapPost("/", CreateAsync).WithName("runtime.create");
        runtimes.MapGet("/{id}", GetAsync).WithName("runtime.get");
        runtimes.MapPatch("/{id}", UpdateAsync).WithName("runtime.update");
        runtimes.MapDelete("/{id}", DeleteAsync).WithName("runtime.delete");
        runtimes.MapPost("/{id}:validate", ValidateAsync).WithName("runtime.validate");
    }

    private static Ok<List<ProviderDto>> ListProviders(ProviderRegistry providers) =>
        TypedResults.Ok(providers.All.OrderBy(p => p.Name, StringComparer.Ordinal).Select(p => new ProviderDto(p.Name, p.DisplayName, p.RequiresCredential)).ToList());

    private static async Task<Results<Ok<Page<RuntimeDto>>, ProblemHttpResult>> ListAsync(
        ListQuery list, string? provider, [FromQuery(Name = "owner_id")] string? ownerId, string? visibility, Caller caller, PitrixDbContext db, CancellationToken cancellationToken)
    {
        if (list.Validate(SortKeys.Keys) is { } invalid)
        {
            return Problems.From(invalid);
        }

        var query = db.Runtimes.AsNoTracking().ReadableBy(caller.Principal);
        if (provider is not null)
        {
            query = query.Where(r => r.Provider == provider);
        }

        if (ownerId is not null)
        {
            query = query.Where(r => r.OwnerId == ownerId);
        }

        if (QueryFilters.ParseVisibility(visibility, out var wanted) is { } badVisibility)
        {
            return Problems.From(badVisibility);
        }

        if (wanted is { } v)
        {
            query = query.Where(r => r.Visibility == v);
        }

        if (list.Q is { } q)
        {
            query = query.Where(r => r.Name.Contains(q) || (r.Description != null && r.Description.Contains(q)));
        }

        return TypedResults.Ok(await query.ToPageAsync(list, SortKeys, RuntimeDto.From, cancellationToken));
    }

    private static async Task<Results<Ok<RuntimeDto>, ProblemHttpResult>> GetAsync(string id, Caller caller, PitrixDbContext db, CancellationToken cancellationToken)
    {
        var found = await db.Runtimes.FindAuthorizedAsync(id, caller, Operation.Read, ResourceType, cancellationToken);
        return found.IsSuccess ? TypedResults.Ok(RuntimeDto.From(found.Value!)) : Problems.From(found.Error!);
    }

    private static async Task<Results<Created<RuntimeDto>, ProblemHttpResult>> CreateAsync(
        CreateRuntimeRequest request, Caller caller, PitrixDbContext db, ProviderRegistry providers, TimeProvider time, CancellationToken cancellationToken)
    {
        var errors = new FieldErrors().Name("name", request.Name).MaxLength("description", request.Description, 1024);
        CredentialEndpoints.CheckProvider(errors, providers, request.Provider);
        var provider = request.Provider is null ? null : providers.Find(request.Provider);
        var zone = string.IsNullOrWhiteSpace(request.Zone) ? "default" : request.Zone;
        if (provider?.ValidateZone(zone) is { } zoneError)
        {
            errors.Add("zone", zoneError);
        }

        if (provider is { RequiresCredential: true } && request.CredentialId is null)
        {
            errors.Add("credential_id", $"Provider '{provider.Name}' needs a credential.");
        }

        Labels.Check(errors, "labels", request.Labels);
        if (errors.ToError() is { } invalid)
        {
            return Problems.From(invalid);
        }

        var visibility = request.Visibility ?? Visibility.Private;
        if (AccessPolicy.CheckPlacement(caller.Principal, visibility, request.GroupId) is { } denied)
        {
            return Problems.From(denied);
        }

        if (request.CredentialId is not null && await CheckCredentialAsync(db, caller, request.CredentialId, provider!.Name, cancellationToken) is { } credentialError)
        {
            return Problems.From(credentialError);
        }

        if (await db.Runtimes.AnyAsync(r => r.OwnerId == caller.UserId && r.Name == request.Name, cancellationToken))
        {
            return Problems.From(Error.Conflict("runtime.name_taken", $"You already have a runtime named '{request.Name}'."));
        }

        var now = time.GetUtcNow();
        var runtime = new Runtime
        {
            Id = Id.New(IdPrefix.Runtime),
            Name = request.Name!,
            Description = request.Description,
            Provider = provider!.Name,
            Zone = zone,
            CredentialId = request.CredentialId,
            Labels = request.Labels ?? [],
            OwnerId = caller.UserId,
            GroupId = request.GroupId,
            Visibility = visibility,
            CreatedAt = now,
            UpdatedAt = now,
        };
        db.Runtimes.Add(runtime);
        await db.SaveChangesAsync(cancellationToken);
        return TypedResults.Created($"/api/v1/runtimes/{runtime.Id}", RuntimeDto.From(runtime));
    }

    private static async Task<Results<Ok<RuntimeDto>, ProblemHttpResult>> UpdateAsync(
        string id, UpdateRuntimeRequest request, Caller caller, PitrixDbContext db, ProviderRegistry providers, TimeProvider time, CancellationToken cancellationToken)
    {
        var errors = new FieldErrors().MaxLength("description", request.Description, 1024);
        if (request.Name is not null)
        {
            errors.Name("name", request.Name);
        }

        Labels.Check(errors, "labels", request.Labels);
        if (errors.ToError() is { } invalid)
        {
            return Problems.From(invalid);
        }

        var found = await db.Runtimes.FindAuthorizedAsync(id, caller, Operation.Write, ResourceType, cancellationToken);
        if (!found.IsSuccess)
        {
            return Problems.From(found.Error!);
        }

        var runtime = found.Value!;
        var provider = providers.Find(runtime.Provider);
        if (request.Zone is not null && provider?.ValidateZone(request.Zone) is { } zoneError)
        {
            return Problems.From(Error.Validation("validation.failed", "One or more fields are invalid.", new Dictionary<string, string[]> { ["zone"] = [zoneError] }));
        }

        var visibility = request.Visibility ?? runtime.Visibility;
        var groupId = request.GroupId ?? runtime.GroupId;
        if ((request.Visibility is not null || request.GroupId is not null) && AccessPolicy.CheckPlacement(caller.Principal, visibility, groupId) is { } denied)
        {
            return Problems.From(denied);
        }

        if (request.CredentialId is not null && request.CredentialId != runtime.CredentialId
            && await CheckCredentialAsync(db, caller, request.CredentialId, runtime.Provider, cancellationToken) is { } credentialError)
        {
            return Problems.From(credentialError);
        }

        if (request.Name is not null && request.Name != runtime.Name
            && await db.Runtimes.AnyAsync(r => r.OwnerId == runtime.OwnerId && r.Name == request.Name, cancellationToken))
        {
            return Problems.From(Error.Conflict("runtime.name_taken", $"A runtime named '{request.Name}' already exists."));
        }

        runtime.Name = request.Name ?? runtime.Name;
        runtime.Description = request.Description ?? runtime.Description;
        runtime.Zone = request.Zone ?? runtime.Zone;
        runtime.CredentialId = request.CredentialId ?? runtime.CredentialId;
        runtime.Labels = request.Labels ?? runtime.Labels;
        runtime.Visibility = visibility;
        runtime.GroupId = groupId;
        runtime.UpdatedAt = time.GetUtcNow();
        await db.SaveChangesAsync(cancellationToken);
        return TypedResults.Ok(RuntimeDto.From(runtime));
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> DeleteAsync(string id, Caller caller, PitrixDbContext db, CancellationToken cancellationToken)
    {
        var found = await db.Runtimes.FindAuthorizedAsync(id, caller, Operation.Delete, ResourceType, cancellationToken);
        if (!found.IsSuccess)
        {
            return Problems.From(found.Error!);
        }

        db.Runtimes.Remove(found.Value!);
        await db.SaveChangesAsync(cancellationToken);
        return TypedResults.NoContent();
    }

    private static async Task<Results<Ok<RuntimeValidationDto>, ProblemHttpResult>> ValidateAsync(
        string id, Caller caller, PitrixDbContext db, ProviderRegistry providers, SecretProtector protector, CancellationToken cancellationToken)
    {
        var found = await db.Runtimes.FindAuthorizedAsync(id, caller, Operation.Use, ResourceType, cancellationToken);
        if (!found.IsSuccess)
        {
            return Problems.From(found.Error!);
        }

        var runtime = found.Value!;
        var provider = providers.Find(runtime.Provider);
        if (provider is null)
        {
            return Problems.From(new Error(ErrorKind.Unavailable, "runtime.provider_unavailable", $"Provider '{runtime.Provider}' is not enabled on this server."));
        }

        var (endpoint, secret) = await RuntimeSecrets.ReadAsync(db, protector, runtime, cancellationToken);
        var report = await provider.ValidateAsync(new RuntimeValidationContext(runtime.Id, runtime.Zone, runtime.Labels, endpoint, secret), cancellationToken);
        return TypedResults.Ok(new RuntimeValidationDto(runtime.Id, runtime.Provider, report.Ok, report.Checks));
    }

    private static async Task<Error?> CheckCredentialAsync(PitrixDbContext db, Caller caller, string credentialId, string provider, CancellationToken cancellationToken)
    {
        var credential = await db.RuntimeCredentials.FindAuthorizedAsync(credentialId, caller, Operation.Use, "credential", cancellationToken);
        if (!credential.IsSuccess)
        {
            return credential.Error;
        }

        return credential.Value!.Provider == provider
            ? null
            : Error.Validation("runtime.credential_provider_mismatch", $"Credential '{credentialId}' is for provider '{credential.Value.Provider}', not '{provider}'.", new Dictionary<string, string[]> { ["credential_id"] = ["The credential's provider differs from the runtime's."] });
    }
}
