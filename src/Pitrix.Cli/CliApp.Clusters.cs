using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Pitrix.Cli;

/// <summary><c>pitrix cluster</c> and <c>pitrix job</c>: deploy apps, run lifecycle actions as jobs, and follow them.</summary>
public sealed partial class CliApp
{
    private const int TaskOutputLines = 20;

    /// <summary>How often <c>--wait</c> asks for a job's state when the server offers no event stream.</summary>
    private static readonly TimeSpan JobPollInterval = TimeSpan.FromMilliseconds(500);

    /// <summary>How long <c>--wait</c> trusts a quiet event stream before checking the job itself.</summary>
    private static readonly TimeSpan EventStreamQuietCheck = TimeSpan.FromSeconds(2);

    /// <summary>
    /// The actions that need no more than the cluster id: command, route (<c>POST /clusters/{id}:ROUTE</c>), description
    /// and whether <c>--force</c> applies.
    /// </summary>
    private static readonly (string Command, string Route, string Description, bool Forceable)[] PlainClusterActions =
    [
        ("start", "start", "Start a stopped cluster", false),
        ("stop", "stop", "Stop a cluster's nodes (they keep their disks)", false),
        ("restart", "restart", "Restart a cluster's services", false),
        ("delete", "delete", "Delete a cluster; it can be recovered until it is ceased (--force ceases it at once, whatever it is doing)", true),
        ("recover", "recover", "Bring a deleted cluster back", false),
        ("cease", "cease", "Release a cluster's resources for good (--force cancels the job it is running)", true),
        ("rollback", "rollback", "Go back to the version the cluster ran before its last upgrade", false),
    ];

    private static readonly Column[] ClusterColumns =
    [
        Column.Field("id"),
        Column.Field("name"),
        Column.Field("status"),
        new("transition", cluster => TransitionText(cluster?["transition"])),
        Column.Field("app_version", "app_version_id"),
        Column.Field("runtime", "runtime_id"),
        Column.Field("created_at"),
    ];

    private static readonly Column[] RoleColumns =
    [
        Column.Field("name"),
        Column.Field("count"),
        Column.Field("cpu"),
        Column.Field("memory"),
        Column.Field("gpu"),
        Column.Field("volume_size"),
    ];

    private static readonly Column[] NodeColumns =
    [
        Column.Field("id"),
        Column.Field("role"),
        Column.Field("server_id"),
        Column.Field("instance_id"),
        Column.Field("private_ip"),
        Column.Field("status"),
        Column.Field("health"),
    ];

    /// <summary>A Helm cluster's roles are its workloads: desired and ready replicas.</summary>
    private static readonly Column[] WorkloadColumns =
    [
        Column.Field("name"),
        Column.Field("desired", "count"),
        Column.Field("ready"),
    ];

    /// <summary>A Helm cluster's nodes are its pods: phase, readiness, IP and the Kubernetes node they run on.</summary>
    private static readonly Column[] PodColumns =
    [
        Column.Field("pod", "id"),
        Column.Field("workload", "role"),
        Column.Field("phase", "status"),
        Column.Field("health"),
        Column.Field("ip", "private_ip"),
        Column.Field("host"),
    ];

    private static readonly Column[] JobColumns =
    [
        Column.Field("id"),
        Column.Field("action"),
        Column.Field("status"),
        new("tasks", job => $"{(int?)job?["tasks_done"] ?? 0}/{(int?)job?["tasks_total"] ?? 0}"),
        Column.Field("created_at"),
        new("duration", job => Elapsed(job?["started_at"], job?["finished_at"])),
        Column.Field("error", "error_code"),
    ];

    private static readonly Column[] TaskColumns =
    [
        Column.Field("key"),
        Column.Field("kind"),
        Column.Field("status"),
        new("attempts", task => $"{(int?)task?["attempts"] ?? 0}/{(int?)task?["max_attempts"] ?? 1}"),
        new("undo", task => (bool?)task?["compensation"] == true ? "yes" : null),
        new("error", task => ErrorText(task?["error_code"], task?["error_message"])),
    ];

    private static readonly Column[] PlanColumns =
    [
        Column.Field("key"),
        Column.Field("kind"),
        Column.Field("depends_on"),
        new("undo", task => (bool?)task?["compensation"] == true ? "yes" : null),
        new("attempts", task => task?["max_attempts"]),
        new("timeout", task => (int?)task?["timeout_seconds"] is int seconds ? CliDuration.Format(seconds) : null),
    ];

    /// <summary>The options every cluster action shares: queue behind a running job, wait for the result, or only plan.</summary>
    private sealed class ClusterActionOptions
    {
        public Option<bool> Queue { get; } = new("--queue") { Description = "If another job is running on the cluster, run after it instead of failing with cluster.busy" };

        public Option<bool> Wait { get; } = new("--wait") { Description = "Wait for the job to finish, printing its progress; exits non-zero if it fails" };

        public Option<bool> Plan { get; } = new("--plan") { Description = "Only show the tasks the job would run; change nothing" };

        public Option<string> Timeout { get; } = new("--timeout") { Description = "How long --wait waits, for example 90s or 1h", DefaultValueFactory = _ => "30m" };

        public void AddTo(Command command)
        {
            foreach (var option in new Option[] { Queue, Wait, Plan, Timeout })
            {
                command.Options.Add(option);
            }
        }
    }

    /// <summary>The options that give configuration values: a file, then <c>--set</c> paths over it.</summary>
    private sealed class ValuesOptions
    {
        public Option<FileInfo?> File { get; } = new("--values", "-f") { Description = "Configuration values from a JSON or YAML file" };

        public Option<string[]> Set { get; } = new("--set") { Description = "A value at a dotted path, for example cluster.zk_node.count=5 (numbers and true/false become JSON numbers and booleans); repeatable, applied over --values" };

        public void AddTo(Command command)
        {
            command.Options.Add(File);
            command.Options.Add(Set);
        }

        /// <summary>The values given, or null when neither option was.</summary>
        public async Task<JsonObject?> ReadAsync(ParseResult parse, CancellationToken ct)
        {
            var file = parse.GetValue(File);
            var sets = parse.GetValue(Set) ?? [];
            if (file is null && sets.Length == 0)
            {
                return null;
            }

            var values = file is null ? [] : await ReadValuesFileAsync(file, ct);
            foreach (var assignment in sets)
            {
                SetPath(values, assignment);
            }

            return values;
        }
    }

    private Command ClusterCommands(CliEnvironment env)
    {
        var cluster = new Command("cluster", "Deploy apps as clusters and change them; every change runs as a job");
        var id = new Argument<string>("id") { Description = "Cluster id" };

        var status = new Option<string?>("--status") { Description = "Only clusters in this status (ceased clusters are listed only when asked for)" };
        var app = new Option<string?>("--app") { Description = "Only clusters of this app (id)" };
        var runtime = new Option<string?>("--runtime") { Description = "Only clusters on this runtime (id)" };
        cluster.Subcommands.Add(Api(env, WithPaging(new Command("list", "List the clusters you can see") { status, app, runtime }), async (p, api, output, ct) =>
        {
            output.WriteRows(await api.GetAsync("api/v1/clusters" + PageQuery(p, ("status", p.GetValue(status)), ("app_id", p.GetValue(app)), ("runtime_id", p.GetValue(runtime))), ct), ClusterColumns);
            return ExitCodes.Ok;
        }));

        cluster.Subcommands.Add(Api(env, new Command("get", "Show a cluster with its roles and nodes") { id }, async (p, api, output, ct) =>
        {
            await WriteClusterDetailAsync(env, output, await api.GetAsync($"api/v1/clusters/{Esc(p.GetValue(id))}", ct));
            return ExitCodes.Ok;
        }));

        cluster.Subcommands.Add(Api(env, new Command("values", "Show the values a cluster is configured with (your own, over the package's defaults)") { id }, async (p, api, output, ct) =>
        {
            var values = await api.GetAsync($"api/v1/clusters/{Esc(p.GetValue(id))}/values", ct);
            output.WriteText(values, values?["values"] is JsonObject { Count: > 0 } own ? Output.Yaml(own) : "# no values of your own: the package's defaults apply\n");
            return ExitCodes.Ok;
        }));

        var revision = new Option<int?>("--revision") { Description = "A release revision (default: the current one)" };
        cluster.Subcommands.Add(Api(env, new Command("manifest", "Show the Kubernetes manifest a Helm cluster's release applied") { id, revision }, async (p, api, output, ct) =>
        {
            var query = p.GetValue(revision) is { } r ? $"?revision={r}" : "";
            var manifest = await api.GetAsync($"api/v1/clusters/{Esc(p.GetValue(id))}/manifest{query}", ct);
            output.WriteText(manifest, (string?)manifest?["manifest"] ?? "");
            return ExitCodes.Ok;
        }));

        cluster.Subcommands.Add(Api(env, WithPaging(new Command("jobs", "Show a cluster's jobs, newest first") { id }), async (p, api, output, ct) =>
        {
            output.WriteRows(await api.GetAsync($"api/v1/clusters/{Esc(p.GetValue(id))}/jobs" + PageQuery(p), ct), JobColumns);
            return ExitCodes.Ok;
        }));

        cluster.Subcommands.Add(CreateClusterCommand(env));

        foreach (var (name, route, description, forceable) in PlainClusterActions)
        {
            var force = new Option<bool>("--force") { Description = name == "delete" ? "Cease the cluster now, cancelling whatever job it runs" : "Cancel the job the cluster is running" };
            cluster.Subcommands.Add(ClusterActionCommand(env, name, route, description, forceable ? [force] : [], (p, _) =>
                Task.FromResult(forceable && p.GetValue(force) ? new JsonObject { ["force"] = true } : new JsonObject())));
        }

        var role = new Option<string>("--role") { Description = "The role to change", Required = true };
        var cpu = new Option<int?>("--cpu") { Description = "CPUs per node" };
        var memory = new Option<int?>("--memory") { Description = "Memory per node, in MiB" };
        var volumeSize = new Option<int?>("--volume-size") { Description = "Volume size per node, in GiB (volumes never shrink)" };
        cluster.Subcommands.Add(ClusterActionCommand(env, "resize", "resize", "Change the size of a role's nodes", [role, cpu, memory, volumeSize], (p, _) =>
        {
            var size = new JsonObject();
            foreach (var (field, option) in new[] { ("cpu", cpu), ("memory", memory), ("volume_size", volumeSize) })
            {
                if (p.GetValue(option) is int value)
                {
                    size[field] = value;
                }
            }

            return size.Count == 0
                ? throw new CliInputException("Give the new size with --cpu, --memory and/or --volume-size.")
                : Task.FromResult(new JsonObject { ["roles"] = new JsonObject { [p.GetValue(role)!] = size } });
        }));

        var scaleOutRole = new Option<string>("--role") { Description = "The role to add nodes to", Required = true };
        var count = new Option<int>("--count") { Description = "How many nodes to add", Required = true };
        cluster.Subcommands.Add(ClusterActionCommand(env, "scale-out", "scale_out", "Add nodes to a role", [scaleOutRole, count], (p, _) =>
            p.GetValue(count) < 1
                ? throw new CliInputException("--count must be at least 1.")
                : Task.FromResult(new JsonObject { ["roles"] = new JsonObject { [p.GetValue(scaleOutRole)!] = p.GetValue(count) } })));

        var nodes = new Option<string[]>("--node") { Description = "Id of a node to remove; repeatable", Required = true };
        cluster.Subcommands.Add(ClusterActionCommand(env, "scale-in", "scale_in", "Remove the given nodes", [nodes], (p, _) =>
            Task.FromResult(new JsonObject { ["node_ids"] = new JsonArray([.. (p.GetValue(nodes) ?? []).Select(n => (JsonNode?)n)]) })));

        var values = new ValuesOptions();
        cluster.Subcommands.Add(ClusterActionCommand(env, "update-config", "update_config", "Change configuration values; values not given keep theirs", [values.File, values.Set], async (p, ct) =>
            new JsonObject { ["values"] = await values.ReadAsync(p, ct) ?? throw new CliInputException("Give the values to change with --values <file> and/or --set key.path=value.") }));

        var upgradeValues = new ValuesOptions();
        var version = new Option<string>("--app-version") { Description = "The app version to upgrade to", Required = true };
        cluster.Subcommands.Add(ClusterActionCommand(env, "upgrade", "upgrade", "Move the cluster to another version of its app", [version, upgradeValues.File, upgradeValues.Set], async (p, ct) =>
            new JsonObject { ["app_version_id"] = p.GetValue(version), ["values"] = await upgradeValues.ReadAsync(p, ct) }));

        var actionName = new Option<string>("--name") { Description = "The action's name, as the app's package declares it", Required = true };
        var actionParameters = new Option<string[]>("--param", "-p") { Description = "A parameter name=value for the action (its command sees PITRIX_PARAM_NAME); repeatable" };
        cluster.Subcommands.Add(ClusterActionCommand(env, "run-action", "run_action", "Run a custom action the app declares (a backup, for example)", [actionName, actionParameters], (p, _) =>
        {
            var body = new JsonObject { ["name"] = p.GetValue(actionName) };
            var given = p.GetValue(actionParameters) ?? [];
            if (given.Length > 0)
            {
                var parameters = new JsonObject();
                foreach (var pair in given)
                {
                    var equals = pair.IndexOf('=', StringComparison.Ordinal);
                    if (equals <= 0)
                    {
                        throw new CliInputException($"--param takes name=value, not '{pair}'.");
                    }

                    parameters[pair[..equals]] = pair[(equals + 1)..];
                }

                body["parameters"] = parameters;
            }

            return Task.FromResult(body);
        }));
        return cluster;
    }

    private Command CreateClusterCommand(CliEnvironment env)
    {
        var version = new Option<string>("--app-version") { Description = "The app version to deploy", Required = true };
        var runtime = new Option<string>("--runtime") { Description = "The runtime to deploy to (see `pitrix app runtimes VERSION`)", Required = true };
        var name = new Option<string>("--name") { Description = "Cluster name", Required = true };
        var description = new Option<string?>("--description");
        var labels = new Option<string[]>("--label", "-l") { Description = "Label key=value; repeatable" };
        var visibility = new Option<string?>("--visibility") { Description = "private (default) or group" };
        var group = new Option<string?>("--group") { Description = "Group to share with" };
        var keepOnFailure = new Option<bool>("--keep-on-failure") { Description = "If the create fails, keep what it made for debugging instead of undoing it" };
        var options = new ClusterActionOptions();
        var values = new ValuesOptions();
        var command = new Command("create", "Deploy an app version as a new cluster") { version, runtime, name, description, labels, visibility, group, keepOnFailure, options.Wait, options.Plan, options.Timeout };
        values.AddTo(command);
        visibility.AcceptOnlyFromAmong("private", "group");
        return Api(env, command, async (p, api, output, ct) =>
        {
            var body = new JsonObject
            {
                ["name"] = p.GetValue(name),
                ["description"] = p.GetValue(description),
                ["app_version_id"] = p.GetValue(version),
                ["runtime_id"] = p.GetValue(runtime),
                ["values"] = await values.ReadAsync(p, ct),
                ["labels"] = ParseLabels(p.GetValue(labels)) is { } pairs ? new JsonObject(pairs.Select(l => KeyValuePair.Create(l.Key, (JsonNode?)l.Value))) : null,
                ["visibility"] = p.GetValue(visibility),
                ["group_id"] = p.GetValue(group),
                ["keep_on_failure"] = p.GetValue(keepOnFailure) ? true : null,
            };
            if (p.GetValue(options.Plan))
            {
                await WritePlanAsync(env, output, await api.PostAsync("api/v1/clusters:plan", body, ct));
                return ExitCodes.Ok;
            }

            var timeout = TimeSpan.FromSeconds(CliDuration.ParseSeconds(p.GetValue(options.Timeout)!, "--timeout"));
            var created = await api.PostAsync("api/v1/clusters", body, ct);
            var clusterId = (string)created!["cluster"]!["id"]!;
            var jobId = (string)created["job"]!["id"]!;
            if (!p.GetValue(options.Wait))
            {
                WriteOne(output, created, c => ClusterView((JsonObject)c["cluster"]!, jobId));
                await env.Error.WriteLineAsync($"Creating cluster {clusterId} with job {jobId}; follow it with `pitrix job get {jobId} --wait`.");
                return ExitCodes.Ok;
            }

            var (_, exitCode) = await WaitForJobAsync(env, api, jobId, timeout, ct);
            await WriteClusterDetailAsync(env, output, await api.GetAsync($"api/v1/clusters/{Esc(clusterId)}", ct));
            return exitCode;
        });
    }

    /// <summary>A cluster action: <c>POST /clusters/{id}:ROUTE</c> with the body <paramref name="body"/> builds, or <c>:plan</c> of it.</summary>
    private Command ClusterActionCommand(CliEnvironment env, string name, string route, string description, Option[] extra, Func<ParseResult, CancellationToken, Task<JsonObject>> body)
    {
        var id = new Argument<string>("id") { Description = "Cluster id" };
        var options = new ClusterActionOptions();
        var command = new Command(name, description) { id };
        foreach (var option in extra)
        {
            command.Options.Add(option);
        }

        options.AddTo(command);
        return Api(env, command, async (p, api, output, ct) =>
        {
            var clusterId = p.GetValue(id)!;
            var request = await body(p, ct);
            if (p.GetValue(options.Plan))
            {
                request["action"] = route;
                await WritePlanAsync(env, output, await api.PostAsync($"api/v1/clusters/{Esc(clusterId)}:plan", request, ct));
                return ExitCodes.Ok;
            }

            var timeout = TimeSpan.FromSeconds(CliDuration.ParseSeconds(p.GetValue(options.Timeout)!, "--timeout"));
            if (p.GetValue(options.Queue))
            {
                request["queue"] = true;
            }

            var job = await api.PostAsync($"api/v1/clusters/{Esc(clusterId)}:{route}", request, ct);
            var jobId = (string)job!["id"]!;
            if (!p.GetValue(options.Wait))
            {
                output.Write(job, JobColumns.Select(c => c.Name).ToArray());
                await env.Error.WriteLineAsync($"Job {jobId} ({(string?)job["action"]}) is {(string?)job["status"]}; follow it with `pitrix job get {jobId} --wait`.");
                return ExitCodes.Ok;
            }

            var (_, exitCode) = await WaitForJobAsync(env, api, jobId, timeout, ct);
            await WriteClusterDetailAsync(env, output, await api.GetAsync($"api/v1/clusters/{Esc(clusterId)}", ct));
            return exitCode;
        });
    }

    private Command JobCommands(CliEnvironment env)
    {
        var job = new Command("job", "The jobs that change clusters: their tasks, retry and cancel");
        var id = new Argument<string>("id") { Description = "Job id" };
        var wait = new Option<bool>("--wait") { Description = "Wait for the job to finish, printing its progress; exits non-zero if it fails" };
        var timeout = new Option<string>("--timeout") { Description = "How long --wait waits, for example 90s or 1h", DefaultValueFactory = _ => "30m" };

        job.Subcommands.Add(Api(env, new Command("get", "Show a job and its tasks with their attempts and errors") { id, wait, timeout }, async (p, api, output, ct) =>
        {
            var jobId = p.GetValue(id)!;
            var exitCode = ExitCodes.Ok;
            JsonNode? detail;
            if (p.GetValue(wait))
            {
                (detail, exitCode) = await WaitForJobAsync(env, api, jobId, ParseTimeout(p.GetValue(timeout)), ct);
            }
            else
            {
                detail = await api.GetAsync($"api/v1/jobs/{Esc(jobId)}", ct);
            }

            await WriteJobDetailAsync(env, output, detail);
            return exitCode;
        }));

        job.Subcommands.Add(Api(env, new Command("retry", "Run a failed or cancelled job again from where it stopped") { id, wait, timeout }, async (p, api, output, ct) =>
        {
            var jobId = p.GetValue(id)!;
            var retried = await api.PostAsync($"api/v1/jobs/{Esc(jobId)}:retry", null, ct);
            if (!p.GetValue(wait))
            {
                output.Write(retried, JobColumns.Select(c => c.Name).ToArray());
                return ExitCodes.Ok;
            }

            var (detail, exitCode) = await WaitForJobAsync(env, api, jobId, ParseTimeout(p.GetValue(timeout)), ct);
            await WriteJobDetailAsync(env, output, detail);
            return exitCode;
        }));

        job.Subcommands.Add(Api(env, new Command("cancel", "Cancel a queued or running job; a running one undoes what it did") { id, wait, timeout }, async (p, api, output, ct) =>
        {
            var jobId = p.GetValue(id)!;
            var cancelled = await api.PostAsync($"api/v1/jobs/{Esc(jobId)}:cancel", null, ct);
            if (!p.GetValue(wait))
            {
                output.Write(cancelled, JobColumns.Select(c => c.Name).ToArray());
                return ExitCodes.Ok;
            }

            // Here a cancelled job is the success asked for.
            var (detail, exitCode) = await WaitForJobAsync(env, api, jobId, ParseTimeout(p.GetValue(timeout)), ct, expectCancelled: true);
            await WriteJobDetailAsync(env, output, detail);
            return exitCode;
        }));
        return job;
    }

    private static TimeSpan ParseTimeout(string? text) => TimeSpan.FromSeconds(CliDuration.ParseSeconds(text ?? "30m", "--timeout"));

    /// <summary>
    /// Follows a job until it has finished and its result is applied to the cluster (the cluster no longer shows
    /// it as its transition), printing task progress on standard error. It follows the server's event stream
    /// when there is one and polls the job otherwise; either way the job's own state decides when it is done.
    /// </summary>
    private static async Task<(JsonNode Detail, int ExitCode)> WaitForJobAsync(CliEnvironment env, ApiClient api, string jobId, TimeSpan timeout, CancellationToken ct, bool expectCancelled = false)
    {
        var started = env.Time.GetTimestamp();
        var progress = new JobProgress(env.Error);
        var detail = await api.GetAsync($"api/v1/jobs/{Esc(jobId)}", ct) ?? throw new ApiException(0, "cli.empty_response", "Empty response", $"The server sent no job {jobId}.", null);
        var clusterId = (string)detail["job"]!["cluster_id"]!;
        var events = await ServerEventStream.OpenAsync(api, $"api/v1/events?cluster={Esc(clusterId)}", null, ct);
        try
        {
            while (true)
            {
                await progress.ObserveAsync(detail);
                if (detail["job"]?["finished_at"] is not null && !await HoldsClusterAsync(api, clusterId, jobId, ct))
                {
                    return (detail, await ReportOutcomeAsync(env, detail, expectCancelled));
                }

                if (env.Time.GetElapsedTime(started) >= timeout)
                {
                    await env.Error.WriteLineAsync($"Job {jobId} is still {(string?)detail["job"]?["status"]} after {CliDuration.Format((long)timeout.TotalSeconds)}; follow it with `pitrix job get {jobId} --wait`.");
                    return (detail, ExitCodes.Unavailable);
                }

                if (events is null)
                {
                    await Task.Delay(JobPollInterval, env.Time, ct);
                }
                else
                {
                    events = await FollowEventsAsync(env, api, events, clusterId, jobId, progress, ct);
                }

                detail = await api.GetAsync($"api/v1/jobs/{Esc(jobId)}", ct) ?? detail;
            }
        }
        finally
        {
            events?.Dispose();
        }
    }

    /// <summary>
    /// Reads events until one says the job or the cluster changed state, or the stream is quiet for a while;
    /// returns the stream to go on with: the same one, a reconnection resuming after the last event seen, or
    /// null when the stream is gone and the caller should poll.
    /// </summary>
    private static async Task<ServerEventStream?> FollowEventsAsync(CliEnvironment env, ApiClient api, ServerEventStream events, string clusterId, string jobId, JobProgress progress, CancellationToken ct)
    {
        var quietSince = env.Time.GetTimestamp();
        while (true)
        {
            var remaining = EventStreamQuietCheck - env.Time.GetElapsedTime(quietSince);
            if (remaining <= TimeSpan.Zero)
            {
                return events;
            }

            ServerEvent? next;
            try
            {
                next = await events.ReadAsync(remaining, env.Time, ct);
            }
            catch (Exception ex) when (ex is IOException or HttpRequestException)
            {
                next = ServerEvent.EndOfStream;
            }

            if (next is null)
            {
                return events;
            }

            if (ReferenceEquals(next, ServerEvent.EndOfStream))
            {
                var lastEventId = events.LastEventId;
                events.Dispose();
                return await ServerEventStream.OpenAsync(api, $"api/v1/events?cluster={Esc(clusterId)}", lastEventId, ct);
            }

            JsonNode? payload;
            try
            {
                payload = JsonNode.Parse(next.Data);
            }
            catch (JsonException)
            {
                continue;
            }

            var type = (string?)payload?["type"] ?? next.Type;
            if (type.StartsWith("cluster.", StringComparison.Ordinal))
            {
                return events;
            }

            if ((string?)payload?["job_id"] != jobId)
            {
                continue;
            }

            if (type.StartsWith("task.", StringComparison.Ordinal))
            {
                await progress.ObserveEventAsync(type, payload!);
            }
            else if (type.StartsWith("job.", StringComparison.Ordinal))
            {
                return events;
            }
        }
    }

    /// <summary>Whether the cluster still shows the job as its transition, i.e. the job's result is not applied yet.</summary>
    private static async Task<bool> HoldsClusterAsync(ApiClient api, string clusterId, string jobId, CancellationToken ct)
    {
        try
        {
            var cluster = await api.GetAsync($"api/v1/clusters/{Esc(clusterId)}", ct);
            return (string?)cluster?["cluster"]?["transition"]?["job_id"] == jobId;
        }
        catch (ApiException ex) when (ex.Status == 404)
        {
            // A cluster that is gone holds nothing.
            return false;
        }
    }

    /// <summary>Prints how a finished job ended (the failed tasks and their errors when it failed) and chooses the exit code.</summary>
    private static async Task<int> ReportOutcomeAsync(CliEnvironment env, JsonNode detail, bool expectCancelled)
    {
        var job = detail["job"]!;
        var label = $"Job {(string?)job["id"]} ({(string?)job["action"]})";
        var took = Elapsed(job["started_at"] ?? job["created_at"], job["finished_at"]);
        switch ((string?)job["status"])
        {
            case "succeeded":
                await env.Error.WriteLineAsync($"{label} succeeded{(took is null ? "" : " in " + took)}.");
                return ExitCodes.Ok;
            case "cancelled":
                await env.Error.WriteLineAsync($"{label} was cancelled.");
                return expectCancelled ? ExitCodes.Ok : ExitCodes.JobCancelled;
        }

        await env.Error.WriteLineAsync($"Error: {label} {(string?)job["status"]}: {(string?)job["error_message"] ?? "no reason given"} [{(string?)job["error_code"]}]");
        var tasks = detail["tasks"] as JsonArray ?? [];
        foreach (var task in tasks.Where(t => (string?)t?["status"] == "failed"))
        {
            var kind = (bool?)task!["compensation"] == true ? "compensation task" : "task";
            await env.Error.WriteLineAsync($"  {kind} {(string?)task["key"]} ({(string?)task["kind"]}) failed after {(int?)task["attempts"] ?? 0} attempt(s): {ErrorText(task["error_code"], task["error_message"])}");
            if ((string?)task["output"] is { Length: > 0 } output)
            {
                await env.Error.WriteLineAsync($"    output: {output.ReplaceLineEndings(" ").Trim()}");
            }
        }

        await env.Error.WriteLineAsync($"  Details: `pitrix job get {(string?)job["id"]}`; run it again with `pitrix job retry {(string?)job["id"]} --wait`.");
        return ExitCodes.JobFailed;
    }

    /// <summary>Prints one line per task as it starts, retries, succeeds or fails, whichever source (events or polls) sees it first.</summary>
    private sealed class JobProgress(TextWriter error)
    {
        private readonly Dictionary<string, (string Status, int Attempt)> _shown = new(StringComparer.Ordinal);
        private readonly Dictionary<string, string> _keysById = new(StringComparer.Ordinal);
        private readonly HashSet<string> _compensations = new(StringComparer.Ordinal);
        private readonly HashSet<string> _succeeded = new(StringComparer.Ordinal);
        private string? _jobStatus;
        private int _total;

        public async Task ObserveAsync(JsonNode detail)
        {
            var job = detail["job"]!;
            _total = (int?)job["tasks_total"] ?? 0;
            var status = (string?)job["status"];
            if (status != _jobStatus && status is "queued" or "pending" or "running")
            {
                await error.WriteLineAsync($"Job {(string?)job["id"]} ({(string?)job["action"]}) is {status}.");
            }

            _jobStatus = status;
            foreach (var task in detail["tasks"] as JsonArray ?? [])
            {
                var key = (string)task!["key"]!;
                _keysById[(string?)task["id"] ?? key] = key;
                if ((bool?)task["compensation"] == true)
                {
                    _compensations.Add(key);
                }

                var attempts = (int?)task["attempts"] ?? 0;
                var taskStatus = (string?)task["status"];

                // A task waiting again after a failed attempt is being retried.
                if (taskStatus is "ready" or "pending" && attempts > 0 && task["error_code"] is not null)
                {
                    taskStatus = "retrying";
                }

                if (taskStatus is "running" or "retrying" or "succeeded" or "failed")
                {
                    await ShowAsync(key, (string?)task["kind"], taskStatus, attempts, ErrorText(task["error_code"], task["error_message"]));
                }
            }
        }

        public Task ObserveEventAsync(string type, JsonNode payload)
        {
            var data = payload["data"];
            var key = (string?)data?["key"] ?? ((string?)payload["task_id"] is { } taskId ? _keysById.GetValueOrDefault(taskId) : null);
            var status = type switch
            {
                "task.started" => "running",
                "task.retrying" => "retrying",
                "task.succeeded" => "succeeded",
                "task.failed" => "failed",
                _ => null,
            };
            return key is null || status is null
                ? Task.CompletedTask
                : ShowAsync(key, (string?)data?["kind"], status, (int?)data?["attempt"] ?? 1, ErrorText(data?["error_code"], data?["error_message"]));
        }

        private async Task ShowAsync(string key, string? kind, string status, int attempt, string? errorText)
        {
            // Events and polls may see the same change, or see it out of order: never print a step twice or go back.
            if (_shown.TryGetValue(key, out var last) && (attempt < last.Attempt || (attempt == last.Attempt && Rank(status) <= Rank(last.Status))))
            {
                return;
            }

            _shown[key] = (status, attempt);
            var compensation = _compensations.Contains(key);
            if (status == "succeeded" && !compensation)
            {
                _succeeded.Add(key);
            }

            var detail = status switch
            {
                "running" => $" ({kind}{(attempt > 1 ? $", attempt {attempt}" : "")})",
                "retrying" => $" after attempt {attempt}: {errorText}",
                "failed" => $": {errorText}",
                _ => "",
            };
            await error.WriteLineAsync($"[{_succeeded.Count}/{_total}] {status} {key}{(compensation ? " (undo)" : "")}{detail}");
        }

        private static int Rank(string status) => status == "running" ? 1 : 2;
    }

    private static async Task WriteClusterDetailAsync(CliEnvironment env, Output output, JsonNode? detail)
    {
        if (output.Format != "table" || detail?["cluster"] is not JsonObject cluster)
        {
            output.Write(detail);
            return;
        }

        var view = ClusterView((JsonObject)cluster.DeepClone());
        view["values"] = detail["config_values"]?.ToJsonString();
        var observed = detail["observed"] as JsonObject;
        if (observed is not null)
        {
            var message = (string?)observed["message"];
            view["observed"] = $"{observed["state"]} at {observed["observed_at"]}{(string.IsNullOrEmpty(message) ? "" : ": " + message)}";
        }

        output.Write(view);
        await env.Output.WriteLineAsync();
        await env.Output.WriteLineAsync(observed is null ? "Roles:" : "Workloads:");
        output.WriteRows(detail["roles"], observed is null ? RoleColumns : WorkloadColumns);
        await env.Output.WriteLineAsync();
        await env.Output.WriteLineAsync(observed is null ? "Nodes:" : "Pods:");
        output.WriteRows(detail["nodes"], observed is null ? NodeColumns : PodColumns);
    }

    private static async Task WriteJobDetailAsync(CliEnvironment env, Output output, JsonNode? detail)
    {
        if (output.Format != "table" || detail?["job"] is not JsonObject job)
        {
            output.Write(detail);
            return;
        }

        var view = (JsonObject)job.DeepClone();
        view["tasks"] = $"{(int?)job["tasks_done"] ?? 0}/{(int?)job["tasks_total"] ?? 0} done";
        view.Remove("tasks_done");
        view.Remove("tasks_total");
        view["parameters"] = job["parameters"]?.ToJsonString();
        output.Write(view);
        await env.Output.WriteLineAsync();
        await env.Output.WriteLineAsync("Tasks:");
        output.WriteRows(detail["tasks"], TaskColumns);

        // What a failed task printed is usually why it failed.
        foreach (var task in (detail["tasks"] as JsonArray ?? []).Where(t => (string?)t?["status"] == "failed" && (string?)t["output"] is { Length: > 0 }))
        {
            var lines = ((string)task!["output"]!).ReplaceLineEndings("\n").TrimEnd().Split('\n');
            await env.Output.WriteLineAsync();
            await env.Output.WriteLineAsync($"Output of {(string?)task["key"]}{(lines.Length > TaskOutputLines ? $" (last {TaskOutputLines} lines; -o yaml shows all)" : "")}:");
            foreach (var line in lines.TakeLast(TaskOutputLines))
            {
                await env.Output.WriteLineAsync(("  " + line).TrimEnd());
            }
        }
    }

    private static async Task WritePlanAsync(CliEnvironment env, Output output, JsonNode? plan)
    {
        if (output.Format != "table")
        {
            output.Write(plan);
            return;
        }

        var tasks = plan?["tasks"] as JsonArray ?? [];
        await env.Output.WriteLineAsync($"Plan for {(string?)plan?["action"]}: {tasks.Count} task(s), in an order they can run; nothing was changed.");
        output.WriteRows(tasks, PlanColumns);
        if (plan?["manifest_diff"] is JsonObject diff)
        {
            await WriteManifestDiffAsync(env, diff);
        }
    }

    /// <summary>A plan's manifest diff: a line per resource that changes, then their unified diffs (colored on a terminal).</summary>
    private static async Task WriteManifestDiffAsync(CliEnvironment env, JsonObject diff)
    {
        var resources = (diff["resources"] as JsonArray ?? []).OfType<JsonObject>().ToList();
        var changing = resources.Where(r => (string?)r["change"] != "unchanged").ToList();
        await env.Output.WriteLineAsync();
        if (changing.Count == 0)
        {
            await env.Output.WriteLineAsync($"Manifest: no changes ({resources.Count} resource(s) unchanged).");
            return;
        }

        await env.Output.WriteLineAsync(
            $"Manifest: {(int?)diff["added"] ?? 0} added, {(int?)diff["removed"] ?? 0} removed, {(int?)diff["changed"] ?? 0} changed, {(int?)diff["unchanged"] ?? 0} unchanged.");
        var width = changing.Max(r => ((string?)r["change"])?.Length ?? 0);
        foreach (var resource in changing)
        {
            var change = (string?)resource["change"] ?? "";
            var line = $"  {change.PadRight(width)}  {(string?)resource["kind"]} {(string?)resource["namespace"]}/{(string?)resource["name"]}";
            await env.Output.WriteLineAsync(env.Colors ? Colored(change switch { "added" => '+', "removed" => '-', _ => '@' }, line) : line);
        }

        await env.Output.WriteLineAsync();
        var unified = ((string?)diff["unified"] ?? "").TrimEnd('\n').Split('\n');
        for (var i = 0; i < unified.Length; i++)
        {
            var line = unified[i];
            var label = (line.StartsWith("--- ", StringComparison.Ordinal) && i + 1 < unified.Length && unified[i + 1].StartsWith("+++ ", StringComparison.Ordinal))
                || (line.StartsWith("+++ ", StringComparison.Ordinal) && i > 0 && unified[i - 1].StartsWith("--- ", StringComparison.Ordinal));
            await env.Output.WriteLineAsync(!env.Colors ? line : label ? $"\e[1m{line}\e[0m" : Colored(line.Length > 0 ? line[0] : ' ', line));
        }

        // Hunk headers and changed resources cyan, deletions red, insertions green; file labels bold.
        static string Colored(char first, string line) => first switch
        {
            '@' => $"\e[36m{line}\e[0m",
            '-' => $"\e[31m{line}\e[0m",
            '+' => $"\e[32m{line}\e[0m",
            _ => line,
        };
    }

    private static JsonObject ClusterView(JsonObject cluster) => ClusterView(cluster, null);

    private static JsonObject ClusterView(JsonObject cluster, string? jobId)
    {
        cluster["transition"] = TransitionText(cluster["transition"]);
        if (jobId is not null)
        {
            cluster["job"] = jobId;
        }

        return cluster;
    }

    private static string? TransitionText(JsonNode? transition) =>
        transition is null ? null : $"{(string?)transition["action"]} {(string?)transition["status"]} (job {(string?)transition["job_id"]})";

    private static string? ErrorText(JsonNode? code, JsonNode? message) =>
        (string?)code is null && (string?)message is null ? null : $"{(string?)message} [{(string?)code}]".Trim();

    /// <summary>Reads a values file: JSON, or YAML (by its extension, or when it is not JSON).</summary>
    private static async Task<JsonObject> ReadValuesFileAsync(FileInfo file, CancellationToken ct)
    {
        if (!file.Exists)
        {
            throw new CliInputException($"Values file '{file.FullName}' does not exist.");
        }

        var text = await File.ReadAllTextAsync(file.FullName, ct);
        var yaml = file.Extension is ".yaml" or ".yml";
        JsonNode? values = null;
        if (!yaml)
        {
            try
            {
                values = JsonNode.Parse(text);
            }
            catch (JsonException) when (file.Extension != ".json")
            {
                yaml = true;
            }
            catch (JsonException ex)
            {
                throw new CliInputException($"Values file '{file.FullName}' is not valid JSON: {ex.Message}", ExitCodes.Invalid);
            }
        }

        if (yaml)
        {
            try
            {
                var stream = new YamlStream();
                stream.Load(new StringReader(text));
                values = stream.Documents.Count == 0 ? new JsonObject() : FromYaml(stream.Documents[0].RootNode);
            }
            catch (YamlException ex)
            {
                throw new CliInputException($"Values file '{file.FullName}' is not valid YAML or JSON: {ex.Message}", ExitCodes.Invalid);
            }
        }

        return values as JsonObject ?? throw new CliInputException($"Values file '{file.FullName}' must hold an object (key: value pairs).", ExitCodes.Invalid);
    }

    /// <summary>A YAML node as JSON; plain (unquoted) scalars become numbers, booleans or null where they read as such.</summary>
    private static JsonNode? FromYaml(YamlNode node) => node switch
    {
        YamlMappingNode map => new JsonObject(map.Children.Select(c => KeyValuePair.Create(((YamlScalarNode)c.Key).Value ?? "", FromYaml(c.Value)))),
        YamlSequenceNode sequence => new JsonArray([.. sequence.Children.Select(FromYaml)]),
        YamlScalarNode { Style: ScalarStyle.Plain, Value: null or "" or "~" or "null" } => null,
        YamlScalarNode { Style: ScalarStyle.Plain } scalar => ScalarValue(scalar.Value!),
        YamlScalarNode scalar => JsonValue.Create(scalar.Value),
        _ => throw new CliInputException($"Unsupported YAML node at {node.Start}.", ExitCodes.Invalid),
    };

    /// <summary>Sets <c>a.b.c=value</c> in <paramref name="values"/>, creating the objects on the way.</summary>
    private static void SetPath(JsonObject values, string assignment)
    {
        var eq = assignment.IndexOf('=', StringComparison.Ordinal);
        if (eq <= 0)
        {
            throw new CliInputException($"--set '{assignment}' is not key.path=value.");
        }

        var path = assignment[..eq].Split('.');
        if (path.Any(string.IsNullOrEmpty))
        {
            throw new CliInputException($"--set '{assignment}' has an empty key in its path.");
        }

        var target = values;
        for (var i = 0; i < path.Length - 1; i++)
        {
            switch (target[path[i]])
            {
                case JsonObject child:
                    target = child;
                    break;
                case null:
                    var created = new JsonObject();
                    target[path[i]] = created;
                    target = created;
                    break;
                default:
                    throw new CliInputException($"--set '{assignment}': '{string.Join('.', path[..(i + 1)])}' is a value, not an object.");
            }
        }

        target[path[^1]] = ScalarValue(assignment[(eq + 1)..]);
    }

    /// <summary>true/false as booleans, JSON numbers as numbers, anything else as the string itself.</summary>
    private static JsonValue ScalarValue(string text)
    {
        switch (text)
        {
            case "true":
                return JsonValue.Create(true);
            case "false":
                return JsonValue.Create(false);
        }

        if (long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var integer))
        {
            return JsonValue.Create(integer);
        }

        return double.TryParse(text, NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint | NumberStyles.AllowExponent, CultureInfo.InvariantCulture, out var number) && double.IsFinite(number)
            ? JsonValue.Create(number)
            : JsonValue.Create(text);
    }

    /// <summary>One Server-Sent Event; <see cref="EndOfStream"/> marks a stream that ended.</summary>
    private sealed record ServerEvent(string? Id, string Type, string Data)
    {
        public static ServerEvent EndOfStream { get; } = new(null, "", "");
    }

    /// <summary>
    /// A Server-Sent Events stream read line by line. A read that times out leaves its pending line read in
    /// place for the next call, since cancelling it would tear down the connection.
    /// </summary>
    private sealed class ServerEventStream : IDisposable
    {
        private readonly HttpResponseMessage _response;
        private readonly StreamReader _reader;
        private readonly CancellationToken _cancellationToken;
        private readonly StringBuilder _data = new();
        private Task<string?>? _pendingLine;
        private string? _id;
        private string? _type;

        private ServerEventStream(HttpResponseMessage response, Stream stream, CancellationToken cancellationToken)
        {
            _response = response;
            _reader = new StreamReader(stream, Encoding.UTF8);
            _cancellationToken = cancellationToken;
        }

        /// <summary>The id of the last event read, to resume after with <c>Last-Event-ID</c>.</summary>
        public string? LastEventId { get; private set; }

        /// <summary>The stream, or null when the server offers none at <paramref name="path"/>.</summary>
        public static async Task<ServerEventStream?> OpenAsync(ApiClient api, string path, string? lastEventId, CancellationToken ct)
        {
            var response = await api.OpenEventStreamAsync(path, lastEventId, ct);
            if (response is null)
            {
                return null;
            }

            try
            {
                return new ServerEventStream(response, await response.Content.ReadAsStreamAsync(ct), ct) { LastEventId = lastEventId };
            }
            catch
            {
                response.Dispose();
                throw;
            }
        }

        /// <summary>The next event, <see cref="ServerEvent.EndOfStream"/> when the stream ended, or null when none came within <paramref name="wait"/>.</summary>
        public async Task<ServerEvent?> ReadAsync(TimeSpan wait, TimeProvider time, CancellationToken ct)
        {
            using var timer = CancellationTokenSource.CreateLinkedTokenSource(ct);
            var timeout = Task.Delay(wait, time, timer.Token);
            try
            {
                return await ReadEventAsync(timeout, ct);
            }
            finally
            {
                await timer.CancelAsync();
            }
        }

        private async Task<ServerEvent?> ReadEventAsync(Task timeout, CancellationToken ct)
        {
            while (true)
            {
                _pendingLine ??= _reader.ReadLineAsync(_cancellationToken).AsTask();
                if (await Task.WhenAny(_pendingLine, timeout) != _pendingLine)
                {
                    ct.ThrowIfCancellationRequested();
                    return null;
                }

                var line = await _pendingLine;
                _pendingLine = null;
                if (line is null)
                {
                    return ServerEvent.EndOfStream;
                }

                if (line.Length == 0)
                {
                    if (_data.Length == 0)
                    {
                        _type = null;
                        continue;
                    }

                    var next = new ServerEvent(_id, _type ?? "message", _data.ToString().TrimEnd('\n'));
                    LastEventId = _id ?? LastEventId;
                    _data.Clear();
                    _type = null;
                    return next;
                }

                if (line.StartsWith(':'))
                {
                    continue;
                }

                var colon = line.IndexOf(':', StringComparison.Ordinal);
                var field = colon < 0 ? line : line[..colon];
                var value = colon < 0 ? "" : line[(colon + 1)..];
                value = value.StartsWith(' ') ? value[1..] : value;
                switch (field)
                {
                    case "id":
                        _id = value;
                        break;
                    case "event":
                        _type = value;
                        break;
                    case "data":
                        _data.Append(value).Append('\n');
                        break;
                }
            }
        }

        public void Dispose()
        {
            _reader.Dispose();
            _response.Dispose();
        }
    }
}
