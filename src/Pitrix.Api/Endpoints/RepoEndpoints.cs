using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;
using Microsoft.EntityFrameworkCore;
using Pitrix.Api.Auditing;
using Pitrix.Api.Http;
using Pitrix.Api.Security;
using Pitrix.Catalog;
using Pitrix.Catalog.Indexing;
using Pitrix.Catalog.Repos;
using Pitrix.Core;
using Pitrix.Core.Access;
using Pitrix.Core.Catalog;
using Pitrix.Core.Identity;
using Pitrix.Core.Runtimes;
using Pitrix.Core.Security;
using Pitrix.Persistence;

namespace Pitrix.Api.Endpoints;

/// <summary>Repos: where packages come from, and their syncs.</summary>
public static partial class RepoEndpoints
{
    private const string ResourceType = "repo";
    public const int MinSyncIntervalSeconds = 60;
    public const int MaxSyncIntervalSeconds = 7 * 24 * 3600;

    private static readonly Dictionary<string, Func<Repo, object?>> SortKeys = new(StringComparer.Ordinal)
    {
        ["name"] = r => r.Name,
        ["created_at"] = r => r.CreatedAt,
    };

    public static void MapRepoEndpoints(this IEndpointRouteBuilder api)
    {
        var repos = api.MapGroup("/repos").WithTags("Repos").WithMetadata(new ResourceTypeMetadata(ResourceType));
        repos.MapGet("/", ListAsync).WithName("repo.list");
        repos.MapPost("/", CreateAsync).WithName("repo.create");
        repos.MapGet("/{id}", GetAsync).WithName("repo.get");
        repos.MapPatch("/{id}", UpdateAsync).WithName("repo.update");
        repos.MapDelete("/{id}", DeleteAsync).WithName("repo.delete");
        api.MapPost("/repos:validate", ValidateAsync).WithName("repo.validate").WithTags("Repos").WithMetadata(new ResourceTypeMetadata(ResourceType));
        repos.MapPost("/{id}:sync", SyncAsync).WithName("repo.sync");
        repos.MapGet("/{id}/syncs", ListSyncsAsync).WithName("repo.syncs");
        repos.MapGet("/{id}/syncs/{syncId}", GetSyncAsync).WithName("repo.sync_get");
        repos.MapPost("/{id}:rotate_webhook_secret", RotateWebhookSecretAsync).WithName("repo.rotate_webhook_secret");
        repos.MapPost("/{id}/webhook", WebhookAsync).WithName("repo.webhook").AllowAnonymous();
    }

    /// <summary>Checks a URL and credential before saving a repo: fetches and parses its index, writes nothing.</summary>
    private static async Task<Results<Ok<RepoValidationDto>, ProblemHttpResult>> ValidateAsync(
        ValidateRepoRequest request, Caller caller, RepoProbe probe, CancellationToken cancellationToken)
    {
        var principal = caller.Principal;
        if (!principal.IsAdmin && !principal.HasRole(Role.Isv) && !principal.HasRole(Role.Developer))
        {
            return Problems.From(Error.Forbidden("access.role_required", "Validating a repo needs the admin, isv or developer role."));
        }

        var errors = new FieldErrors().Required("url", request.Url);
        if (request.Url is not null)
        {
            CheckUrl(errors, request.Url, principal);
        }

        CheckCredential(errors, request.Credential);
        CheckSettings(errors, null, null, null, null, null, null, request.CaBundlePem);
        if (errors.ToError() is { } invalid)
        {
            return Problems.From(invalid);
        }

        var url = NormalizeUrl(request.Url!);
        var result = await probe.ValidateAsync(url, ToCredential(request.Credential), request.CaBundlePem, cancellationToken);
        return TypedResults.Ok(new RepoValidationDto(result.Ok, url, result.Apps, result.Versions, result.ErrorCode, result.ErrorMessage));
    }

    private static async Task<Results<Accepted<RepoSyncDto>, ProblemHttpResult>> SyncAsync(
        string id, Caller caller, PitrixDbContext db, RepoSyncRequests requests, CancellationToken cancellationToken)
    {
        var found = await db.Repos.FindAuthorizedAsync(id, caller, Operation.Write, ResourceType, cancellationToken);
        if (!found.IsSuccess)
        {
            return Problems.From(found.Error!);
        }

        if (!RepoSyncRequests.CanSync(found.Value!))
        {
            return Problems.From(Error.Conflict("repo.not_syncable", $"Repo '{found.Value!.Name}' is an upload repo: it has no index to sync."));
        }

        var sync = await requests.RequestAsync(db, id, SyncTrigger.Manual, caller.Principal.Name, cancellationToken);
        return TypedResults.Accepted($"/api/v1/repos/{id}/syncs/{sync.Id}", RepoSyncDto.From(sync));
    }

    private static async Task<Results<Ok<Page<RepoSyncDto>>, ProblemHttpResult>> ListSyncsAsync(
        string id, ListQuery list, Caller caller, PitrixDbContext db, CancellationToken cancellationToken)
    {
        if (list.Validate(["queued_at"]) is { } invalid)
        {
            return Problems.From(invalid);
        }

        var found = await db.Repos.FindAuthorizedAsync(id, caller, Operation.Read, ResourceType, cancellationToken);
        if (!found.IsSuccess)
        {
            return Problems.From(found.Error!);
        }

        var query = db.RepoSyncs.AsNoTracking().Where(s => s.RepoId == id);
        var total = await query.CountAsync(cancellationToken);
        var items = await (list.Sort == "queued_at" ? query.OrderBy(s => s.QueuedAt) : query.OrderByDescending(s => s.QueuedAt))
            .Skip(list.Offset).Take(list.Limit).ToListAsync(cancellationToken);
        return TypedResults.Ok(new Page<RepoSyncDto>(items.Select(RepoSyncDto.From).ToList(), total, list.Limit, list.Offset));
    }

    private static async Task<Results<Ok<RepoSyncDto>, ProblemHttpResult>> GetSyncAsync(
        string id, string syncId, Caller caller, PitrixDbContext db, CancellationToken cancellationToken)
    {
        var found = await db.Repos.FindAuthorizedAsync(id, caller, Operation.Read, ResourceType, cancellationToken);
        if (!found.IsSuccess)
        {
            return Problems.From(found.Error!);
        }

        var sync = await db.RepoSyncs.AsNoTracking().SingleOrDefaultAsync(s => s.Id == syncId && s.RepoId == id, cancellationToken);
        return sync is null ? Problems.From(Error.NotFound("repo_sync", syncId)) : TypedResults.Ok(RepoSyncDto.From(sync));
    }

    /// <summary>Generates a new webhook secret (shown once) and returns it with the URL to configure in the repo's host.</summary>
    private static async Task<Results<Ok<WebhookSecretDto>, ProblemHttpResult>> RotateWebhookSecretAsync(
        string id, HttpRequest http, Caller caller, PitrixDbContext db, ISecretProtector protector, TimeProvider time, CancellationToken cancellationToken)
    {
        var found = await db.Repos.FindAuthorizedAsync(id, caller, Operation.Write, ResourceType, cancellationToken);
        if (!found.IsSuccess)
        {
            return Problems.From(found.Error!);
        }

        var repo = found.Value!;
        if (!RepoSyncRequests.CanSync(repo))
        {
            return Problems.From(Error.Conflict("repo.not_syncable", $"Repo '{repo.Name}' is an upload repo: webhooks have nothing to sync."));
        }

        var secret = "pxw_" + Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        repo.WebhookSecretCiphertext = protector.Protect(secret);
        repo.UpdatedAt = time.GetUtcNow();
        await db.SaveChangesAsync(cancellationToken);
        return TypedResults.Ok(new WebhookSecretDto($"{http.Scheme}://{http.Host}{http.PathBase}/api/v1/repos/{repo.Id}/webhook", secret));
    }

    /// <summary>
    /// Queues a sync when the repo's host says it changed. Authenticated by the repo's webhook secret:
    /// a GitHub/Gitea-style <c>X-Hub-Signature-256</c> HMAC of the body, or <c>Authorization: Bearer</c>.
    /// Every failure answers the same, so the endpoint reveals nothing about which repos exist.
    /// </summary>
    private static async Task<Results<Accepted<WebhookAcceptedDto>, ProblemHttpResult>> WebhookAsync(
        string id, HttpRequest http, PitrixDbContext db, ISecretProtector protector, RepoSyncRequests requests, CancellationToken cancellationToken)
    {
        const int MaxBody = 1024 * 1024;
        var denied = new Error(ErrorKind.Unauthenticated, "webhook.invalid_signature", "The webhook signature or token is missing or does not match this repo's webhook secret.");
        using var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int read;
        while ((read = await http.Body.ReadAsync(chunk, cancellationToken)) > 0)
        {
            if (buffer.Length + read > MaxBody)
            {
                return Problems.From(new Error(ErrorKind.PayloadTooLarge, "request.too_large", "A webhook body is at most 1 MiB."));
            }

            await buffer.WriteAsync(chunk.AsMemory(0, read), cancellationToken);
        }

        var repo = await db.Repos.AsNoTracking().SingleOrDefaultAsync(r => r.Id == id, cancellationToken);
        if (repo?.WebhookSecretCiphertext is null || !RepoSyncRequests.CanSync(repo)
            || !WebhookSignature.Verify(protector.Unprotect(repo.WebhookSecretCiphertext), buffer.ToArray(), http.Headers["X-Hub-Signature-256"].FirstOrDefault(), http.Headers.Authorization.FirstOrDefault()))
        {
            return Problems.From(denied);
        }

        var sync = await requests.RequestAsync(db, id, SyncTrigger.Webhook, "webhook", cancellationToken);
        return TypedResults.Accepted($"/api/v1/repos/{id}/syncs/{sync.Id}", new WebhookAcceptedDto(sync.Id, sync.Status));
    }

    private static async Task<Results<Ok<Page<RepoDto>>, ProblemHttpResult>> ListAsync(
        ListQuery list, string? type, string? visibility, string? provider, Caller caller, PitrixDbContext db, CancellationToken cancellationToken)
    {
        if (list.Validate(SortKeys.Keys) is { } invalid)
        {
            return Problems.From(invalid);
        }

        if (QueryFilters.ParseVisibility(visibility, out var wanted) is { } badVisibility)
        {
            return Problems.From(badVisibility);
        }

        // Repos are few, and the scope has already loaded every readable one: filter and page in memory.
        var scope = await CatalogAccess.ScopeAsync(db, caller.Principal, cancellationToken);
        var all = scope.Repos.Values
            .Where(r => type is null || r.Type == type)
            .Where(r => wanted is null || r.Visibility == wanted)
            .Where(r => provider is null || r.Providers.Contains(provider))
            .Where(r => list.Q is not { } q || r.Name.Contains(q, StringComparison.OrdinalIgnoreCase) || (r.Description?.Contains(q, StringComparison.OrdinalIgnoreCase) ?? false))
            .ToList();
        var key = SortKeys[list.Sort?.TrimStart('-') ?? "name"];
        var sorted = list.Sort?.StartsWith('-') == true ? all.OrderByDescending(key) : all.OrderBy(key);
        var items = sorted.Skip(list.Offset).Take(list.Limit).ToList();
        var syncs = await LastSyncsAsync(db, items, cancellationToken);
        return TypedResults.Ok(new Page<RepoDto>(items.Select(r => RepoDto.From(r, syncs.GetValueOrDefault(r.Id))).ToList(), all.Count, list.Limit, list.Offset));
    }

    private static async Task<Results<Ok<RepoDto>, ProblemHttpResult>> GetAsync(string id, Caller caller, PitrixDbContext db, CancellationToken cancellationToken)
    {
        var found = await db.Repos.FindAuthorizedAsync(id, caller, Operation.Read, ResourceType, cancellationToken);
        return found.IsSuccess ? TypedResults.Ok(await ToDtoAsync(db, found.Value!, cancellationToken)) : Problems.From(found.Error!);
    }

    private static async Task<Results<Created<RepoDto>, ProblemHttpResult>> CreateAsync(
        CreateRepoRequest request, Caller caller, PitrixDbContext db, ISecretProtector protector, RepoSyncRequests requests, TimeProvider time, CancellationToken cancellationToken)
    {
        var principal = caller.Principal;
        if (!principal.IsAdmin && !principal.HasRole(Role.Isv) && !principal.HasRole(Role.Developer))
        {
            return Problems.From(Error.Forbidden("access.role_required", "Creating a repo needs the admin, isv or developer role."));
        }

        var errors = new FieldErrors().Name("name", request.Name).MaxLength("description", request.Description, 1024);
        var type = CheckUrl(errors, request.Url, principal);
        CheckSettings(errors, request.Providers, request.Labels, request.Selectors, request.SyncIntervalSeconds, request.DefaultStatus, request.FetchPackages, request.CaBundlePem);
        if (type == RepoType.Upload && (request.Credential is not null || request.CaBundlePem is not null))
        {
            errors.Add("url", "An upload repo (no url) has no credential or CA bundle.");
        }

        CheckCredential(errors, request.Credential);
        if (errors.ToError() is { } invalid)
        {
            return Problems.From(invalid);
        }

        // Developers and isvs create repos for their group: with one group, it is the default.
        var groupId = request.GroupId ?? (principal.IsAdmin || principal.MemberGroupIds.Count != 1 ? null : principal.MemberGroupIds.First());
        var groupIds = request.GroupIds ?? (groupId is null ? [] : [groupId]);
        var visibility = request.Visibility ?? (groupIds.Count > 0 ? Visibility.Group : Visibility.Private);
        if (await CheckPlacementAsync(db, principal, visibility, groupId, groupIds, cancellationToken) is { } denied)
        {
            return Problems.From(denied);
        }

        if (await db.Repos.AnyAsync(r => r.OwnerId == caller.UserId && r.Name == request.Name, cancellationToken))
        {
            return Problems.From(Error.Conflict("repo.name_taken", $"You already have a repo named '{request.Name}'."));
        }

        var now = time.GetUtcNow();
        var repo = new Repo
        {
            Id = Id.New(IdPrefix.Repo),
            Name = request.Name!,
            Description = request.Description,
            Type = type,
            Url = type == RepoType.Upload ? null : NormalizeUrl(request.Url!),
            CredentialCiphertext = ToCredential(request.Credential)?.Protect(protector),
            CaBundlePem = request.CaBundlePem,
            Providers = request.Providers ?? [],
            Labels = request.Labels ?? [],
            Selectors = request.Selectors ?? [],
            GroupIds = visibility == Visibility.Group ? groupIds : [],
            SyncIntervalSeconds = type == RepoType.Upload ? 0 : request.SyncIntervalSeconds ?? Repo.DefaultSyncIntervalSeconds,
            DefaultStatus = request.DefaultStatus ?? (type == RepoType.Upload ? AppVersionStatus.Draft : AppVersionStatus.Active),
            FetchPackages = request.FetchPackages ?? PackageFetchPolicy.All,
            OwnerId = caller.UserId,
            GroupId = groupId,
            Visibility = visibility,
            CreatedAt = now,
            UpdatedAt = now,
        };
        db.Repos.Add(repo);
        await db.SaveChangesAsync(cancellationToken);
        if (RepoSyncRequests.CanSync(repo))
        {
            await requests.RequestAsync(db, repo.Id, SyncTrigger.Created, caller.Principal.Name, cancellationToken);
        }

        return TypedResults.Created($"/api/v1/repos/{repo.Id}", await ToDtoAsync(db, repo, cancellationToken));
    }

    private static async Task<Results<Ok<RepoDto>, ProblemHttpResult>> UpdateAsync(
        string id, UpdateRepoRequest request, Caller caller, PitrixDbContext db, ISecretProtector protector, TimeProvider time, CancellationToken cancellationToken)
    {
        var found = await db.Repos.FindAuthorizedAsync(id, caller, Operation.Write, ResourceType, cancellationToken);
        if (!found.IsSuccess)
        {
            return Problems.From(found.Error!);
        }

        var repo = found.Value!;
        var errors = new FieldErrors().MaxLength("description", request.Description, 1024);
        if (request.Name is not null)
        {
            errors.Name("name", request.Name);
        }

        if (request.Url is not null)
        {
            if (repo.Type == RepoType.Upload)
            {
                errors.Add("url", "An upload repo has no url.");
            }
            else if (CheckUrl(errors, request.Url, caller.Principal) == RepoType.Upload)
            {
                errors.Add("url", "A synced repo needs a url.");
            }
        }

        CheckSettings(errors, request.Providers, request.Labels, request.Selectors, request.SyncIntervalSeconds, request.DefaultStatus, request.FetchPackages, request.CaBundlePem);
        CheckCredential(errors, request.Credential);
        if (errors.ToError() is { } invalid)
        {
            return Problems.From(invalid);
        }

        var visibility = request.Visibility ?? repo.Visibility;
        var groupId = request.GroupId ?? repo.GroupId;
        var groupIds = request.GroupIds ?? (repo.GroupIds.Count > 0 ? repo.GroupIds : groupId is null ? [] : [groupId]);
        if ((request.Visibility is not null || request.GroupId is not null || request.GroupIds is not null)
            && await CheckPlacementAsync(db, caller.Principal, visibility, groupId, groupIds, cancellationToken) is { } denied)
        {
            return Problems.From(denied);
        }

        if (request.Name is not null && request.Name != repo.Name
            && await db.Repos.AnyAsync(r => r.OwnerId == repo.OwnerId && r.Name == request.Name, cancellationToken))
        {
            return Problems.From(Error.Conflict("repo.name_taken", $"A repo named '{request.Name}' already exists."));
        }

        var sourceChanged = (request.Url is not null && NormalizeUrl(request.Url) != repo.Url) || request.Credential is not null || request.ClearCredential == true
            || (request.CaBundlePem is not null && request.CaBundlePem != repo.CaBundlePem);
        repo.Name = request.Name ?? repo.Name;
        repo.Description = request.Description ?? repo.Description;
        repo.Url = request.Url is null ? repo.Url : NormalizeUrl(request.Url);
        if (request.ClearCredential == true)
        {
            repo.CredentialCiphertext = null;
        }

        if (request.Credential is not null)
        {
            repo.CredentialCiphertext = ToCredential(request.Credential)?.Protect(protector);
        }

        repo.CaBundlePem = request.CaBundlePem is null ? repo.CaBundlePem : request.CaBundlePem.Length == 0 ? null : request.CaBundlePem;
        repo.Providers = request.Providers ?? repo.Providers;
        repo.Labels = request.Labels ?? repo.Labels;
        repo.Selectors = request.Selectors ?? repo.Selectors;
        repo.Visibility = visibility;
        repo.GroupId = groupId;
        repo.GroupIds = visibility == Visibility.Group ? groupIds : [];
        repo.DefaultStatus = request.DefaultStatus ?? repo.DefaultStatus;
        repo.FetchPackages = request.FetchPackages ?? repo.FetchPackages;
        var now = time.GetUtcNow();
        if (request.SyncIntervalSeconds is { } interval && repo.Type != RepoType.Upload)
        {
            repo.SyncIntervalSeconds = interval;
            repo.NextSyncAt = interval == 0 ? null : (repo.LastSyncAt ?? now).AddSeconds(interval);
        }

        if (sourceChanged)
        {
            // A new source must be read in full: forget the validators of the old one.
            repo.IndexETag = null;
            repo.IndexLastModified = null;
            repo.IndexDigest = null;
        }

        repo.UpdatedAt = now;
        await db.SaveChangesAsync(cancellationToken);
        return TypedResults.Ok(await ToDtoAsync(db, repo, cancellationToken));
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> DeleteAsync(string id, Caller caller, PitrixDbContext db, CancellationToken cancellationToken)
    {
        var found = await db.Repos.FindAuthorizedAsync(id, caller, Operation.Delete, ResourceType, cancellationToken);
        if (!found.IsSuccess)
        {
            return Problems.From(found.Error!);
        }

        db.Repos.Remove(found.Value!);
        await db.SaveChangesAsync(cancellationToken);
        return TypedResults.NoContent();
    }

    internal static async Task<RepoDto> ToDtoAsync(PitrixDbContext db, Repo repo, CancellationToken cancellationToken)
    {
        var syncs = await LastSyncsAsync(db, [repo], cancellationToken);
        return RepoDto.From(repo, syncs.GetValueOrDefault(repo.Id));
    }

    private static async Task<Dictionary<string, RepoSync>> LastSyncsAsync(PitrixDbContext db, IReadOnlyList<Repo> repos, CancellationToken cancellationToken)
    {
        var repoIds = repos.Select(r => r.Id).ToList();
        var latest = await db.RepoSyncs.AsNoTracking()
            .Where(s => repoIds.Contains(s.RepoId))
            .GroupBy(s => s.RepoId)
            .Select(g => g.OrderByDescending(s => s.QueuedAt).First())
            .ToListAsync(cancellationToken);
        return latest.ToDictionary(s => s.RepoId, StringComparer.Ordinal);
    }

    /// <summary>Checks the url and returns the repo type it makes. <c>file://</c> reads the server's disk, so only admins may use it.</summary>
    internal static string CheckUrl(FieldErrors errors, string? url, Principal principal)
    {
        if (url is null)
        {
            return RepoType.Upload;
        }

        if (url.Length > 2048 || !Uri.TryCreate(url, UriKind.Absolute, out var uri))
        {
            errors.Add("url", "Must be an absolute http://, https:// or file:// URL of at most 2048 characters.");
            return RepoType.Http;
        }

        if (uri.Scheme == Uri.UriSchemeFile)
        {
            if (!principal.IsAdmin)
            {
                errors.Add("url", "Only an admin may add a file:// repo (it reads the server's disk).");
            }

            return RepoType.File;
        }

        if (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps)
        {
            errors.Add("url", $"Scheme '{uri.Scheme}' is not supported; use http, https or file.");
        }
        else if (uri.UserInfo.Length > 0)
        {
            errors.Add("url", "Put credentials in 'credential', not in the URL (they would be stored and shown in clear).");
        }

        return RepoType.Http;
    }

    private static string NormalizeUrl(string url) => url.EndsWith('/') ? url : url + "/";

    private static void CheckSettings(
        FieldErrors errors, List<string>? providers, Dictionary<string, string>? labels, List<string>? selectors, int? interval, string? defaultStatus, string? fetchPackages, string? caBundlePem)
    {
        foreach (var provider in providers ?? [])
        {
            if (!ProviderName().IsMatch(provider))
            {
                errors.Add("providers", $"'{provider}' is not a provider name (lower-case letters, digits and '-').");
            }
        }

        if (providers is { Count: > 32 })
        {
            errors.Add("providers", "At most 32 providers.");
        }

        Labels.Check(errors, "labels", labels);
        foreach (var selector in selectors ?? [])
        {
            if (LabelSelector.Parse(selector) is { IsSuccess: false } parsed)
            {
                errors.Add("selectors", parsed.Error!.Message);
            }
        }

        if (selectors is { Count: > 16 })
        {
            errors.Add("selectors", "At most 16 selectors.");
        }

        if (interval is { } seconds && seconds != 0 && seconds is < MinSyncIntervalSeconds or > MaxSyncIntervalSeconds)
        {
            errors.Add("sync_interval_seconds", $"0 (manual) or {MinSyncIntervalSeconds} to {MaxSyncIntervalSeconds} seconds.");
        }

        if (defaultStatus is not null and not (AppVersionStatus.Draft or AppVersionStatus.Active))
        {
            errors.Add("default_status", "Must be draft or active.");
        }

        if (fetchPackages is not null && !PackageFetchPolicy.Values.Contains(fetchPackages))
        {
            errors.Add("fetch_packages", "Must be all, latest or none.");
        }

        if (caBundlePem is { Length: > 0 } && (caBundlePem.Length > 256 * 1024 || !caBundlePem.Contains("-----BEGIN CERTIFICATE-----", StringComparison.Ordinal)))
        {
            errors.Add("ca_bundle_pem", "Must be PEM certificates (-----BEGIN CERTIFICATE-----), at most 256 KiB.");
        }
    }

    private static void CheckCredential(FieldErrors errors, RepoCredentialRequest? credential)
    {
        if (credential is null)
        {
            return;
        }

        if (credential.BearerToken is not null && (credential.Username is not null || credential.Password is not null))
        {
            errors.Add("credential", "Give either username and password, or a bearer token.");
        }
        else if ((credential.Username is null) != (credential.Password is null))
        {
            errors.Add("credential", "Basic authentication needs both username and password.");
        }
        else if (credential.BearerToken is null && credential.Username is null)
        {
            errors.Add("credential", "Give username and password, or a bearer token.");
        }

        if ((credential.Username?.Length ?? 0) > 256 || (credential.Password?.Length ?? 0) > 4096 || (credential.BearerToken?.Length ?? 0) > 8192)
        {
            errors.Add("credential", "Too long.");
        }
    }

    internal static RepoCredential? ToCredential(RepoCredentialRequest? request) =>
        request is null ? null : new RepoCredential(request.Username, request.Password, request.BearerToken);

    /// <summary>Visibility rules of every resource, plus: the groups a repo is shared with must exist.</summary>
    private static async Task<Error?> CheckPlacementAsync(PitrixDbContext db, Principal principal, Visibility visibility, string? groupId, List<string> groupIds, CancellationToken cancellationToken)
    {
        if (AccessPolicy.CheckPlacement(principal, visibility, groupId, groupIds) is { } denied)
        {
            return denied;
        }

        if (groupIds.Count > 64)
        {
            return Error.Validation("validation.failed", "At most 64 groups.", new Dictionary<string, string[]> { ["group_ids"] = ["At most 64."] });
        }

        var wanted = groupIds.Append(groupId).OfType<string>().Distinct(StringComparer.Ordinal).ToList();
        var existing = await db.Groups.Where(g => wanted.Contains(g.Id)).Select(g => g.Id).ToListAsync(cancellationToken);
        var missing = wanted.Except(existing, StringComparer.Ordinal).ToList();
        return missing.Count == 0
            ? null
            : Error.Validation("validation.failed", "Unknown groups.", new Dictionary<string, string[]> { ["group_ids"] = [$"No such group: {string.Join(", ", missing)}."] });
    }

    [GeneratedRegex("^[a-z0-9][a-z0-9-]{0,31}$")]
    private static partial Regex ProviderName();
}
