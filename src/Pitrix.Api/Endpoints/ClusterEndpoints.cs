using System.Linq.Expressions;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Pitrix.Api.Auditing;
using Pitrix.Api.Http;
using Pitrix.Api.Security;
using Pitrix.Catalog.Apps;
using Pitrix.Catalog.Fetching;
using Pitrix.Catalog.Indexing;
using Pitrix.Core;
using Pitrix.Core.Access;
using Pitrix.Core.Catalog;
using Pitrix.Core.Clusters;
using Pitrix.Core.Runtimes;
using Pitrix.Engine.Clusters;
using Pitrix.Packages;
using Pitrix.Packages.Archives;
using Pitrix.Persistence;

namespace Pitrix.Api.Endpoints;

/// <summary>Clusters: create, inspect, and every lifecycle action, each run as a job; <c>:plan</c> shows a job's task DAG without running it.</summary>
public static class ClusterEndpoints
{
    private const string ResourceType = "cluster";

    /// <summary>Route action name → cluster action.</summary>
    private static readonly Dictionary<string, string> Actions = new(StringComparer.Ordinal)
    {
        ["start"] = ClusterAction.Start,
        ["stop"] = ClusterAction.Stop,
        ["restart"] = ClusterAction.Restart,
        ["delete"] = ClusterAction.Delete,
        ["recover"] = ClusterAction.Recover,
        ["cease"] = ClusterAction.Cease,
        ["resize"] = ClusterAction.Resize,
        ["scale_out"] = ClusterAction.ScaleOut,
        ["scale_in"] = ClusterAction.ScaleIn,
        ["update_config"] = ClusterAction.UpdateConfig,
        ["upgrade"] = ClusterAction.Upgrade,
        ["rollback"] = ClusterAction.Rollback,
        ["run_action"] = ClusterAction.Custom,
    };

    private static readonly Dictionary<string, Expression<Func<Cluster, object?>>> SortKeys = new(StringComparer.Ordinal)
    {
        ["created_at"] = c => c.CreatedAt,
        ["name"] = c => c.Name,
        ["updated_at"] = c => c.UpdatedAt,
        ["status"] = c => c.Status,
    };

    public static void MapClusterEndpoints(this IEndpointRouteBuilder api)
    {
        api.MapPost("/clusters:plan", PlanCreateAsync).WithName("cluster.plan_create").WithTags("Clusters").WithMetadata(new ResourceTypeMetadata(ResourceType));
        var clusters = api.MapGroup("/clusters").WithTags("Clusters").WithMetadata(new ResourceTypeMetadata(ResourceType));
        clusters.MapGet("/", ListAsync).WithName("cluster.list");
        clusters.MapPost("/", CreateAsync).WithName("cluster.create");
        clusters.MapGet("/{id}", GetAsync).WithName("cluster.get");
        clusters.MapGet("/{id}/jobs", JobsAsync).WithName("cluster.jobs");
        clusters.MapGet("/{id}/values", ValuesAsync).WithName("cluster.values");
        clusters.MapGet("/{id}/manifest", ManifestAsync).WithName("cluster.manifest");
        clusters.MapPost("/{id}:plan", PlanActionAsync).WithName("cluster.plan");
        foreach (var (route, action) in Actions)
        {
            clusters.MapPost("/{id}:" + route, (string id, ClusterActionBody? body, Caller caller, HttpContext context, CancellationToken ct) =>
                    ActAsync(id, action, body ?? Empty, caller, context.RequestServices, ct))
                .WithName("cluster." + route);
        }
    }

    private static readonly ClusterActionBody Empty = new(null, null, null, null, null, null, null, null, null);

    private static async Task<Results<Ok<Page<ClusterDto>>, ProblemHttpResult>> ListAsync(
        ListQuery list,
        string? status,
        [FromQuery(Name = "app_id")] string? appId,
        [FromQuery(Name = "app_version_id")] string? appVersionId,
        [FromQuery(Name = "runtime_id")] string? runtimeId,
        [FromQuery(Name = "owner_id")] string? ownerId,
        Caller caller,
        PitrixDbContext db,
        CancellationToken cancellationToken)
    {
        if (list.Validate(SortKeys.Keys) is { } invalid)
        {
            return Problems.From(invalid);
        }

        if (status is not null && !ClusterStatus.All.Contains(status))
        {
            return Problems.From(new FieldErrors().Add("status", $"Must be one of {string.Join(", ", ClusterStatus.All)}.").ToError()!);
        }

        var query = db.Clusters.AsNoTracking().ReadableBy(caller.Principal);

        // Ceased clusters are history: listed only when asked for.
        query = status is null ? query.Where(c => c.Status != ClusterStatus.Ceased) : query.Where(c => c.Status == status);
        query = appId is null ? query : query.Where(c => c.AppId == appId);
        query = appVersionId is null ? query : query.Where(c => c.AppVersionId == appVersionId);
        query = runtimeId is null ? query : query.Where(c => c.RuntimeId == runtimeId);
        query = ownerId is null ? query : query.Where(c => c.OwnerId == ownerId);
        if (list.Q is { } q)
        {
            query = query.Where(c => c.Name.Contains(q) || (c.Description != null && c.Description.Contains(q)));
        }

        var page = await query.ToPageAsync(list, SortKeys, c => c, cancellationToken);
        var holders = await HoldersAsync(db, page.Items, cancellationToken);
        return TypedResults.Ok(new Page<ClusterDto>(page.Items.Select(c => ClusterDto.From(c, holders.GetValueOrDefault(c.Id))).ToList(), page.Total, page.Limit, page.Offset));
    }

    private static async Task<Results<Ok<ClusterDetailDto>, ProblemHttpResult>> GetAsync(string id, Caller caller, PitrixDbContext db, CancellationToken cancellationToken)
    {
        var found = await db.Clusters.FindAuthorizedAsync(id, caller, Operation.Read, ResourceType, cancellationToken);
        if (!found.IsSuccess)
        {
            return Problems.From(found.Error!);
        }

        var cluster = found.Value!;
        var roles = await db.ClusterRoles.AsNoTracking().Where(r => r.ClusterId == id).OrderBy(r => r.Name).ToListAsync(cancellationToken);
        var nodes = await db.ClusterNodes.AsNoTracking().Where(n => n.ClusterId == id && n.Status != NodeStatus.Deleted).OrderBy(n => n.ServerId).ToListAsync(cancellationToken);
        var holders = await HoldersAsync(db, [cluster], cancellationToken);
        var observed = cluster.Status is ClusterStatus.Deleted or ClusterStatus.Ceased
            ? null
            : await db.ClusterObservations.AsNoTracking().SingleOrDefaultAsync(o => o.ClusterId == id, cancellationToken);
        var view = ClusterDto.From(cluster, holders.GetValueOrDefault(id));
        if (observed is null)
        {
            return TypedResults.Ok(new ClusterDetailDto(view, JsonNode.Parse(cluster.ConfigValues), roles.Select(ClusterRoleDto.From).ToList(), nodes.Select(ClusterNodeDto.From).ToList())
            {
                CustomActions = ClusterDetailDto.CustomActionsOf(cluster.Spec),
            });
        }

        // The runtime's own view: its workloads as roles, its pods as nodes, its Services and Ingresses as endpoints.
        return TypedResults.Ok(new ClusterDetailDto(
            view with { Endpoints = new Dictionary<string, string>(view.Endpoints.Concat(observed.Endpoints.Where(e => !view.Endpoints.ContainsKey(e.Key))), StringComparer.Ordinal) },
            JsonNode.Parse(cluster.ConfigValues),
            [.. roles.Select(ClusterRoleDto.From), .. observed.Workloads.Select(ClusterRoleDto.From)],
            [.. nodes.Select(ClusterNodeDto.From), .. observed.Pods.Select((p, i) => ClusterNodeDto.From(p, i + 1, observed.ObservedAt))],
            ClusterObservationDto.From(observed))
        {
            CustomActions = ClusterDetailDto.CustomActionsOf(cluster.Spec),
        });
    }

    private static async Task<Results<Ok<Page<JobDto>>, ProblemHttpResult>> JobsAsync(string id, ListQuery list, Caller caller, PitrixDbContext db, CancellationToken cancellationToken)
    {
        var found = await db.Clusters.FindAuthorizedAsync(id, caller, Operation.Read, ResourceType, cancellationToken);
        if (!found.IsSuccess)
        {
            return Problems.From(found.Error!);
        }

        if (list.Validate(["created_at"]) is { } invalid)
        {
            return Problems.From(invalid);
        }

        var query = db.Jobs.AsNoTracking().Where(j => j.ClusterId == id);
        var total = await query.CountAsync(cancellationToken);
        var ordered = list.Sort == "created_at" ? query.OrderBy(j => j.CreatedAt) : query.OrderByDescending(j => j.CreatedAt);
        var jobs = await ordered.Skip(list.Offset).Take(list.Limit).ToListAsync(cancellationToken);
        var counts = await JobEndpoints.TaskCountsAsync(db, jobs.Select(j => j.Id).ToList(), cancellationToken);
        return TypedResults.Ok(new Page<JobDto>(jobs.Select(j => JobEndpoints.ToDto(j, counts)).ToList(), total, list.Limit, list.Offset));
    }

    /// <summary>The values the cluster was configured with: the user's own, which the app format merges over the package's defaults.</summary>
    private static async Task<Results<Ok<ClusterValuesDto>, ProblemHttpResult>> ValuesAsync(string id, Caller caller, PitrixDbContext db, CancellationToken cancellationToken)
    {
        var found = await db.Clusters.FindAuthorizedAsync(id, caller, Operation.Read, ResourceType, cancellationToken);
        if (!found.IsSuccess)
        {
            return Problems.From(found.Error!);
        }

        var cluster = found.Value!;
        return TypedResults.Ok(new ClusterValuesDto(cluster.Id, cluster.AppVersionId, cluster.Format, JsonNode.Parse(cluster.ConfigValues) as JsonObject ?? []));
    }

    /// <summary>What the cluster's release applied, read from the runtime (Helm clusters: <c>helm get manifest</c>).</summary>
    private static async Task<Results<Ok<ClusterManifestDto>, ProblemHttpResult>> ManifestAsync(
        string id, int? revision, Caller caller, PitrixDbContext db, IEnumerable<IClusterInspector> inspectors, CancellationToken cancellationToken)
    {
        var found = await db.Clusters.FindAuthorizedAsync(id, caller, Operation.Read, ResourceType, cancellationToken);
        if (!found.IsSuccess)
        {
            return Problems.From(found.Error!);
        }

        var cluster = found.Value!;
        if (revision is < 1)
        {
            return Problems.From(new FieldErrors().Add("revision", "A revision is 1 or more.").ToError()!);
        }

        if (inspectors.FirstOrDefault(i => i.Format == cluster.Format) is not { } inspector)
        {
            return Problems.From(Error.Conflict("cluster.no_manifest", $"Cluster '{cluster.Name}' is a {cluster.Format} cluster, which has no Kubernetes manifest."));
        }

        if (cluster.Status == ClusterStatus.Ceased)
        {
            return Problems.From(Error.Conflict("cluster.no_manifest", $"Cluster '{cluster.Name}' is ceased; its release is gone."));
        }

        var manifest = await inspector.ManifestAsync(cluster, revision, cancellationToken);
        return manifest.IsSuccess
            ? TypedResults.Ok(new ClusterManifestDto(cluster.Id, manifest.Value!.Release, manifest.Value.Revision, manifest.Value.Manifest))
            : Problems.From(manifest.Error!);
    }

    private static async Task<Results<Accepted<ClusterJobDto>, ProblemHttpResult>> CreateAsync(
        CreateClusterRequest request, Caller caller, HttpContext context, ClusterOperations operations, CancellationToken cancellationToken)
    {
        var prepared = await PrepareCreateAsync(request, caller, context.RequestServices, cancellationToken);
        if (!prepared.IsSuccess)
        {
            return Problems.From(prepared.Error!);
        }

        var created = await operations.CreateAsync(prepared.Value!, cancellationToken);
        if (!created.IsSuccess)
        {
            return Problems.From(created.Error!);
        }

        var (cluster, job) = created.Value!;
        return TypedResults.Accepted($"/api/v1/clusters/{cluster.Id}", new ClusterJobDto(ClusterDto.From(cluster, job), JobDto.From(job)));
    }

    private static async Task<Results<Ok<PlanDto>, ProblemHttpResult>> PlanCreateAsync(
        CreateClusterRequest request, Caller caller, HttpContext context, ClusterOperations operations, CancellationToken cancellationToken)
    {
        var prepared = await PrepareCreateAsync(request, caller, context.RequestServices, cancellationToken);
        if (!prepared.IsSuccess)
        {
            return Problems.From(prepared.Error!);
        }

        var plan = await operations.PlanCreateAsync(prepared.Value!, cancellationToken);
        return plan.IsSuccess ? TypedResults.Ok(PlanDto.From(plan.Value!)) : Problems.From(plan.Error!);
    }

    private static async Task<Results<Ok<PlanDto>, ProblemHttpResult>> PlanActionAsync(
        string id, ClusterActionBody? body, Caller caller, HttpContext context, CancellationToken cancellationToken)
    {
        var action = body?.Action is { } name && Actions.TryGetValue(name, out var known) ? known : null;
        if (action is null)
        {
            return Problems.From(new FieldErrors().Add("action", $"Required: one of {string.Join(", ", Actions.Keys)}.").ToError()!);
        }

        var request = await BuildActionAsync(id, action, body!, caller, context.RequestServices, cancellationToken);
        if (!request.IsSuccess)
        {
            return Problems.From(request.Error!);
        }

        var operations = context.RequestServices.GetRequiredService<ClusterOperations>();
        var plan = await operations.PlanActionAsync(id, request.Value!, cancellationToken);
        if (!plan.IsSuccess)
        {
            return Problems.From(plan.Error!);
        }

        var diff = await ManifestDiffAsync(id, request.Value!, context.RequestServices, cancellationToken);
        return diff.IsSuccess ? TypedResults.Ok(PlanDto.From(plan.Value!) with { ManifestDiff = diff.Value }) : Problems.From(diff.Error!);
    }

    /// <summary>
    /// What a change of the cluster's values or version does to its manifest (update_config, upgrade, rollback, for
    /// formats with an inspector: Helm's renders both sides with <c>helm template</c>, or for a rollback reads both
    /// revisions from helm); null otherwise.
    /// </summary>
    private static async Task<Result<ManifestDiffDto?>> ManifestDiffAsync(string id, ClusterActionRequest request, IServiceProvider services, CancellationToken cancellationToken)
    {
        if (request.Action is not (ClusterAction.UpdateConfig or ClusterAction.Upgrade or ClusterAction.Rollback) || request.Target is not { } target)
        {
            return Result.Success<ManifestDiffDto?>(null);
        }

        var db = services.GetRequiredService<PitrixDbContext>();
        var cluster = await db.Clusters.AsNoTracking().SingleOrDefaultAsync(c => c.Id == id, cancellationToken);
        if (cluster is null || services.GetServices<IClusterInspector>().FirstOrDefault(i => i.Format == cluster.Format) is not { } inspector)
        {
            return Result.Success<ManifestDiffDto?>(null);
        }

        var versionId = (string?)request.Parameters["app_version_id"] ?? cluster.AppVersionId;
        var diff = await inspector.DiffAsync(cluster, request.Action, versionId, target, cancellationToken);
        return diff.IsSuccess ? ManifestDiffDto.From(diff.Value!) : diff.Error!;
    }

    private static async Task<Results<Accepted<JobDto>, ProblemHttpResult>> ActAsync(
        string id, string action, ClusterActionBody body, Caller caller, IServiceProvider services, CancellationToken cancellationToken)
    {
        var request = await BuildActionAsync(id, action, body, caller, services, cancellationToken);
        if (!request.IsSuccess)
        {
            return Problems.From(request.Error!);
        }

        var job = await services.GetRequiredService<ClusterOperations>().SubmitAsync(id, request.Value!, cancellationToken);
        return job.IsSuccess
            ? TypedResults.Accepted($"/api/v1/jobs/{job.Value!.Id}", JobDto.From(job.Value!))
            : Problems.From(job.Error!);
    }

    /// <summary>Checks the caller may change the cluster and turns the body into the action's parameters (designing the target for config changes and upgrades).</summary>
    private static async Task<Result<ClusterActionRequest>> BuildActionAsync(
        string id, string action, ClusterActionBody body, Caller caller, IServiceProvider services, CancellationToken cancellationToken)
    {
        var db = services.GetRequiredService<PitrixDbContext>();
        var found = await db.Clusters.AsNoTracking().SingleOrDefaultAsync(c => c.Id == id, cancellationToken);
        if (found is null)
        {
            return Error.NotFound(ResourceType, id);
        }

        if (AccessPolicy.Check(caller.Principal, found, Operation.Write, ResourceType) is { } denied)
        {
            return denied;
        }

        var force = body.Force == true;
        if (force && action is not (ClusterAction.Delete or ClusterAction.Cease))
        {
            return Error.Validation("cluster.invalid_parameters", "'force' applies to delete and cease only.");
        }

        // A forced delete skips the grace period: the cluster is ceased whatever it is doing.
        var effective = force ? ClusterAction.Cease : action;
        var parameters = new JsonObject();
        Core.Clusters.ClusterDesign? target = null;
        switch (effective)
        {
            case ClusterAction.Resize or ClusterAction.ScaleOut:
                parameters["roles"] = body.Roles?.DeepClone();
                break;
            case ClusterAction.ScaleIn:
                parameters["node_ids"] = body.NodeIds is null ? null : new JsonArray([.. body.NodeIds.Select(n => (JsonNode?)n)]);
                break;
            case ClusterAction.Custom:
                parameters["name"] = body.Name;
                if (body.Parameters is not null)
                {
                    if (body.Parameters.Any(p => p.Value is not JsonValue))
                    {
                        return Error.Validation("cluster.invalid_parameters", "A custom action's parameters are names with string, number or boolean values.");
                    }

                    parameters["parameters"] = body.Parameters.DeepClone();
                }

                break;
            case ClusterAction.Cease when force:
                parameters["force"] = true;
                break;
            case ClusterAction.UpdateConfig:
                if (body.Values is null)
                {
                    return new FieldErrors().Add("values", "Required: the configuration values to change.").ToError()!;
                }

                var loaded = await LoadPackageAsync(db, services, caller, found.AppVersionId, cancellationToken);
                if (!loaded.IsSuccess)
                {
                    return loaded.Error!;
                }

                var (format, package) = loaded.Value;
                var current = JsonNode.Parse(found.ConfigValues) as JsonObject ?? [];
                var designed = format.Design(package, Merge(current, body.Values), current);
                if (!designed.IsSuccess)
                {
                    return designed.Error!;
                }

                // Node counts and sizes have their own actions, which create, remove or resize instances.
                var before = format.Design(package, current);
                var moved = before.IsSuccess
                    ? designed.Value!.Roles.Where(d => before.Value!.Roles.FirstOrDefault(r => r.Name == d.Name) is { } r && (r.Count, r.Cpu, r.Memory, r.Gpu, r.VolumeSize) != (d.Count, d.Cpu, d.Memory, d.Gpu, d.VolumeSize)).Select(d => d.Name).ToList()
                    : [];
                if (moved.Count > 0)
                {
                    return Error.Validation("cluster.invalid_parameters", $"These values change the node count or size of role(s) {string.Join(", ", moved)}: use scale_out, scale_in or resize for that.");
                }

                target = designed.Value!;
                break;
            case ClusterAction.Upgrade or ClusterAction.Rollback:
                var versionId = effective == ClusterAction.Rollback ? found.PreviousAppVersionId : body.AppVersionId;
                if (versionId is null)
                {
                    return effective == ClusterAction.Rollback
                        ? Error.Conflict("cluster.no_previous_version", $"Cluster '{found.Name}' has not been upgraded, so there is no version to roll back to.")
                        : new FieldErrors().Add("app_version_id", "Required: the version to upgrade to.").ToError()!;
                }

                var version = await AppEndpoints.FindVersionAsync(db, versionId, caller.Principal, cancellationToken);
                if (!version.IsSuccess)
                {
                    return version.Error!;
                }

                if (version.Value.Version.AppId != found.AppId || versionId == found.AppVersionId)
                {
                    return Error.Validation("cluster.invalid_version", $"Version '{versionId}' is not another version of this cluster's app.");
                }

                // A rollback restores the values the cluster had on the version it returns to (as helm rollback does), not today's.
                var currentValues = JsonNode.Parse(found.ConfigValues) as JsonObject ?? [];
                var baseValues = effective == ClusterAction.Rollback && found.PreviousConfigValues is { } previous
                    ? JsonNode.Parse(previous) as JsonObject ?? []
                    : currentValues;
                var upgraded = await DesignAsync(db, services, caller, versionId, Merge(baseValues, body.Values ?? []), cancellationToken, currentValues);
                if (!upgraded.IsSuccess)
                {
                    return upgraded.Error!;
                }

                target = upgraded.Value!;
                parameters["app_version_id"] = versionId;
                parameters["from_app_version_id"] = found.AppVersionId;
                break;
        }

        return new ClusterActionRequest(effective, parameters, target, body.Queue == true, body.KeepOnFailure == true, caller.UserId, force);
    }

    private static async Task<Result<ClusterCreate>> PrepareCreateAsync(CreateClusterRequest request, Caller caller, IServiceProvider services, CancellationToken cancellationToken)
    {
        var errors = new FieldErrors().Name("name", request.Name).MaxLength("description", request.Description, 1024)
            .Required("app_version_id", request.AppVersionId).Required("runtime_id", request.RuntimeId);
        Labels.Check(errors, "labels", request.Labels);
        var visibility = request.Visibility ?? Visibility.Private;
        if (visibility == Visibility.Public)
        {
            errors.Add("visibility", "A cluster is private or shared with a group.");
        }

        if (errors.ToError() is { } invalid)
        {
            return invalid;
        }

        if (AccessPolicy.CheckPlacement(caller.Principal, visibility, request.GroupId) is { } denied)
        {
            return denied;
        }

        var db = services.GetRequiredService<PitrixDbContext>();
        var version = await AppEndpoints.FindVersionAsync(db, request.AppVersionId!, caller.Principal, cancellationToken);
        if (!version.IsSuccess)
        {
            return version.Error!;
        }

        var runtime = await db.Runtimes.FindAuthorizedAsync(request.RuntimeId!, caller, Operation.Use, "runtime", cancellationToken);
        if (!runtime.IsSuccess)
        {
            return runtime.Error!;
        }

        var (appVersion, app, repo) = version.Value;
        var registry = services.GetRequiredService<ProviderRegistry>();
        var providers = RuntimeMatching.ProvidersOf(repo, appVersion.Format, registry.All.Select(p => p.Name));
        if (!RuntimeMatching.Matches(runtime.Value!, providers, RuntimeMatching.SelectorsOf(repo)))
        {
            return Error.Validation("cluster.runtime_mismatch", $"{app.Name} {appVersion.Version} cannot run on runtime '{runtime.Value!.Name}' ({runtime.Value.Provider}): its repo targets {string.Join(", ", providers)}{(repo.Selectors.Count > 0 ? " with labels " + string.Join(", ", repo.Selectors) : "")}. GET /api/v1/app_versions/{appVersion.Id}/runtimes lists the runtimes it can use.");
        }

        var design = await DesignAsync(db, services, caller, appVersion.Id, request.Values, cancellationToken);
        if (!design.IsSuccess)
        {
            return design.Error!;
        }

        return new ClusterCreate(
            request.Name!, request.Description, app.Id, appVersion.Id, appVersion.Format, runtime.Value!.Id, caller.UserId,
            request.GroupId, visibility, request.Labels ?? [], design.Value!, request.KeepOnFailure == true, caller.UserId);
    }

    /// <summary>Reads the version's package and lets its app format check the values and design the cluster.</summary>
    private static async Task<Result<Core.Clusters.ClusterDesign>> DesignAsync(PitrixDbContext db, IServiceProvider services, Caller caller, string versionId, JsonObject? values, CancellationToken cancellationToken, JsonObject? current = null)
    {
        var loaded = await LoadPackageAsync(db, services, caller, versionId, cancellationToken);
        return loaded.IsSuccess ? loaded.Value.Format.Design(loaded.Value.Package, values, current) : loaded.Error!;
    }

    /// <summary>The version's app format and its package, read once (from the catalog, or fetched from its repo).</summary>
    private static async Task<Result<(IAppFormat Format, AppPackage Package)>> LoadPackageAsync(PitrixDbContext db, IServiceProvider services, Caller caller, string versionId, CancellationToken cancellationToken)
    {
        var found = await AppEndpoints.FindVersionAsync(db, versionId, caller.Principal, cancellationToken);
        if (!found.IsSuccess)
        {
            return found.Error!;
        }

        var (version, app, _) = found.Value;
        var format = services.GetRequiredService<AppFormatRegistry>().Find(version.Format);
        if (!format.IsSuccess)
        {
            return format.Error!;
        }

        AppPackage package;
        try
        {
            var archive = await services.GetRequiredService<PackageStore>().GetPackageAsync(db, version, cancellationToken);
            using var stream = new MemoryStream(archive, writable: false);
            var read = await SafeArchive.ReadAsync(stream, null, cancellationToken);
            package = new AppPackage(version.Format, app.Name, version.Version, read.ContentFiles);
        }
        catch (FetchException ex)
        {
            return new Error(ErrorKind.Unavailable, ex.Code, $"The package of {app.Name} {version.Version} could not be fetched from its repo: {ex.Message}");
        }
        catch (PackageException ex)
        {
            return new Error(ErrorKind.Unavailable, ex.Code, $"The package of {app.Name} {version.Version} is not usable: {ex.Message}");
        }

        return (format.Value!, package);
    }

    /// <summary>Values given for a change replace the current ones key by key, deeply; keys not given keep their value.</summary>
    internal static JsonObject Merge(JsonObject current, JsonObject changes)
    {
        var merged = (JsonObject)current.DeepClone();
        foreach (var (key, value) in changes)
        {
            merged[key] = value is JsonObject child && merged[key] is JsonObject existing ? Merge(existing, child) : value?.DeepClone();
        }

        return merged;
    }

    private static async Task<Dictionary<string, Core.Engine.Job>> HoldersAsync(PitrixDbContext db, IReadOnlyList<Cluster> clusters, CancellationToken cancellationToken)
    {
        var ids = clusters.Where(c => c.LeaseJobId != null).Select(c => c.LeaseJobId!).ToList();
        if (ids.Count == 0)
        {
            return [];
        }

        var jobs = await db.Jobs.AsNoTracking().Where(j => ids.Contains(j.Id) && !j.Applied).ToListAsync(cancellationToken);
        return jobs.ToDictionary(j => j.ClusterId, StringComparer.Ordinal);
    }
}
