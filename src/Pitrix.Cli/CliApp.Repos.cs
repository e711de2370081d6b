using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;

namespace Pitrix.Cli;

/// <summary><c>pitrix repo</c>: the server's app repositories, beside the local <c>repo index</c>.</summary>
public sealed partial class CliApp
{
    private static readonly string[] FinishedSyncStatuses = ["succeeded", "partially_succeeded", "failed"];

    private static readonly Column[] RepoColumns =
    [
        Column.Field("id"),
        Column.Field("name"),
        Column.Field("type"),
        Column.Field("visibility"),
        new("interval", repo => (int?)repo?["sync_interval_seconds"] is int seconds ? Interval(seconds) : null),
        new("last_sync", repo => repo?["last_sync"]?["status"]),
        new("synced_at", repo => repo?["last_sync"]?["finished_at"]),
        Column.Field("url"),
    ];

    private static readonly Column[] SyncColumns =
    [
        Column.Field("id"),
        Column.Field("trigger"),
        Column.Field("status"),
        new("started", sync => sync?["started_at"] ?? sync?["queued_at"]),
        new("duration", sync => Elapsed(sync?["started_at"], sync?["finished_at"])),
        Column.Field("added"),
        Column.Field("updated"),
        Column.Field("removed"),
        Column.Field("failed"),
        Column.Field("error", "error_code"),
    ];

    /// <summary>The options <c>repo add</c> and <c>repo update</c> share; on update every one is optional and an absent one keeps the value.</summary>
    private sealed class RepoOptions
    {
        public Option<string?> Url { get; } = new("--url") { Description = "Source: an http(s):// Helm-style repo or a file:// directory with index.yaml (none: an upload repo)" };

        public Option<string?> Description { get; } = new("--description");

        public Option<string?> Username { get; } = new("--username") { Description = "User name for basic auth to the source; the password comes from --password-stdin" };

        public Option<bool> PasswordStdin { get; } = new("--password-stdin") { Description = "Read the source's password from standard input" };

        public Option<bool> BearerTokenStdin { get; } = new("--bearer-token-stdin") { Description = "Read a bearer token for the source from standard input" };

        public Option<FileInfo?> CaFile { get; } = new("--ca-file") { Description = "PEM bundle of CA certificates to trust for this source" };

        public Option<string[]> Providers { get; } = new("--provider") { Description = "Provider the repo's apps deploy to; repeatable" };

        public Option<string[]> Labels { get; } = new("--label", "-l") { Description = "Label key=value; repeatable" };

        public Option<string[]> Selectors { get; } = new("--selector") { Description = "Runtime label selector, for example env in (dev,test); repeatable" };

        public Option<string?> Visibility { get; } = new("--visibility") { Description = "private (default), group or public (admin)" };

        public Option<string?> Group { get; } = new("--group") { Description = "Owning group (for group visibility)" };

        public Option<string[]> ShareGroups { get; } = new("--share-group") { Description = "Another group to share with; repeatable" };

        public Option<string?> SyncInterval { get; } = new("--sync-interval") { Description = "How often to sync: 90s, 30m, 1h, … or 0 for manual only (default 30m)" };

        public Option<string?> DefaultStatus { get; } = new("--default-status") { Description = "Status of newly found versions: draft (reviewed first) or active" };

        public Option<string?> FetchPackages { get; } = new("--fetch-packages") { Description = "Which packages to store at sync: all, latest or none (fetched on first download)" };

        public RepoOptions()
        {
            Visibility.AcceptOnlyFromAmong("private", "group", "public");
            DefaultStatus.AcceptOnlyFromAmong("draft", "active");
            FetchPackages.AcceptOnlyFromAmong("all", "latest", "none");
        }

        public void AddTo(Command command)
        {
            foreach (var option in new Option[] { Url, Description, Username, PasswordStdin, BearerTokenStdin, CaFile, Providers, Labels, Selectors, Visibility, Group, ShareGroups, SyncInterval, DefaultStatus, FetchPackages })
            {
                command.Options.Add(option);
            }
        }
    }

    private Command RepoCommands(CliEnvironment env)
    {
        var repo = PackageCommands.Repo(env);
        var id = new Argument<string>("id") { Description = "Repo id" };
        var wait = new Option<bool>("--wait") { Description = "Wait for the sync to finish, printing its progress" };
        var timeout = new Option<string>("--timeout") { Description = "How long --wait waits, for example 90s or 1h", DefaultValueFactory = _ => "10m" };

        var type = new Option<string?>("--type") { Description = "file, http or upload" };
        var visibility = new Option<string?>("--visibility") { Description = "private, group or public" };
        var provider = new Option<string?>("--provider") { Description = "Only repos for this provider" };
        repo.Subcommands.Add(Api(env, WithPaging(new Command("list", "List the repos you can see") { type, visibility, provider }), async (p, api, output, ct) =>
        {
            output.WriteRows(await api.GetAsync("api/v1/repos" + PageQuery(p, ("type", p.GetValue(type)), ("visibility", p.GetValue(visibility)), ("provider", p.GetValue(provider))), ct), RepoColumns);
            return ExitCodes.Ok;
        }));

        repo.Subcommands.Add(Api(env, new Command("get", "Show a repo and its last sync") { id }, async (p, api, output, ct) =>
        {
            WriteOne(output, await api.GetAsync($"api/v1/repos/{Esc(p.GetValue(id))}", ct), RepoView);
            return ExitCodes.Ok;
        }));

        var name = new Argument<string>("name") { Description = "Repo name" };
        var validateOnly = new Option<bool>("--validate-only") { Description = "Only check that the source can be read and indexed; create nothing" };
        var add = new Command("add", "Add a repo: a Helm-style source synced on a schedule, or (without --url) an upload repo") { name, validateOnly, wait, timeout };
        var addOptions = new RepoOptions();
        addOptions.AddTo(add);
        repo.Subcommands.Add(Api(env, add, async (p, api, output, ct) =>
        {
            var url = p.GetValue(addOptions.Url);
            var credential = await ReadRepoCredentialAsync(env, p, addOptions, ct);
            var caBundle = await ReadCaBundleAsync(p.GetValue(addOptions.CaFile), ct);
            if (p.GetValue(validateOnly))
            {
                if (url is null)
                {
                    throw new CliInputException("--validate-only checks a source; give it with --url.");
                }

                var validation = await api.PostAsync("api/v1/repos:validate", new { url, credential, ca_bundle_pem = caBundle }, ct);
                output.Write(validation);
                return (bool?)validation?["ok"] == true ? ExitCodes.Ok : ExitCodes.Invalid;
            }

            var waitFor = CliDuration.ParseSeconds(p.GetValue(timeout)!, "--timeout");
            var created = await api.PostAsync("api/v1/repos", RepoBody(p, addOptions, p.GetValue(name), url, credential, caBundle, clearCredential: false), ct);
            var repoId = (string)created!["id"]!;
            if (!p.GetValue(wait))
            {
                WriteOne(output, created, RepoView);
                return ExitCodes.Ok;
            }

            if (url is null)
            {
                await env.Error.WriteLineAsync("An upload repo has no sync to wait for.");
                WriteOne(output, created, RepoView);
                return ExitCodes.Ok;
            }

            var (sync, exitCode) = await WaitForSyncAsync(env, api, repoId, await InitialSyncAsync(env, api, repoId, ct), TimeSpan.FromSeconds(waitFor), ct);
            WriteOne(output, WithLastSync(await api.GetAsync($"api/v1/repos/{Esc(repoId)}", ct), sync), RepoView);
            return exitCode;
        }));

        var newName = new Option<string?>("--name") { Description = "New name" };
        var clearCredential = new Option<bool>("--clear-credential") { Description = "Remove the stored credential" };
        var update = new Command("update", "Change a repo; options not given keep their values") { id, newName, clearCredential };
        var updateOptions = new RepoOptions();
        updateOptions.AddTo(update);
        repo.Subcommands.Add(Api(env, update, async (p, api, output, ct) =>
        {
            var credential = await ReadRepoCredentialAsync(env, p, updateOptions, ct);
            if (credential is not null && p.GetValue(clearCredential))
            {
                throw new CliInputException("Give a new credential or --clear-credential, not both.");
            }

            var caBundle = await ReadCaBundleAsync(p.GetValue(updateOptions.CaFile), ct);
            var body = RepoBody(p, updateOptions, p.GetValue(newName), p.GetValue(updateOptions.Url), credential, caBundle, clearCredential: p.GetValue(clearCredential));
            WriteOne(output, await api.PatchAsync($"api/v1/repos/{Esc(p.GetValue(id))}", body, ct), RepoView);
            return ExitCodes.Ok;
        }));

        var yes = new Option<bool>("--yes", "-y") { Description = "Do not ask for confirmation" };
        repo.Subcommands.Add(Api(env, new Command("delete", "Delete a repo with all its apps and versions") { id, yes }, async (p, api, _, ct) =>
        {
            var repoId = p.GetValue(id)!;
            if (!p.GetValue(yes))
            {
                if (!env.InputIsTerminal)
                {
                    throw new CliInputException($"Deleting repo {repoId} deletes its apps and versions too; pass --yes to confirm.");
                }

                var answer = Prompt(env, $"Delete repo {repoId} with all its apps and versions? [y/N] ", secret: false);
                if (!answer.Trim().StartsWith('y'))
                {
                    await env.Error.WriteLineAsync("Nothing deleted.");
                    return ExitCodes.Failure;
                }
            }

            await api.DeleteAsync($"api/v1/repos/{Esc(repoId)}", ct);
            await env.Error.WriteLineAsync("Repo deleted.");
            return ExitCodes.Ok;
        }));

        repo.Subcommands.Add(Api(env, new Command("sync", "Sync a repo now (or join the sync already queued or running)") { id, wait, timeout }, async (p, api, output, ct) =>
        {
            var repoId = p.GetValue(id)!;
            var waitFor = CliDuration.ParseSeconds(p.GetValue(timeout)!, "--timeout");
            var sync = await api.PostAsync($"api/v1/repos/{Esc(repoId)}:sync", null, ct);
            var exitCode = ExitCodes.Ok;
            if (p.GetValue(wait))
            {
                (sync, exitCode) = await WaitForSyncAsync(env, api, repoId, sync!, TimeSpan.FromSeconds(waitFor), ct);
            }

            output.Write(sync);
            return exitCode;
        }));

        repo.Subcommands.Add(Api(env, WithPaging(new Command("syncs", "Show a repo's sync history, newest first") { id }), async (p, api, output, ct) =>
        {
            output.WriteRows(await api.GetAsync($"api/v1/repos/{Esc(p.GetValue(id))}/syncs" + PageQuery(p), ct), SyncColumns);
            return ExitCodes.Ok;
        }));

        repo.Subcommands.Add(Api(env, new Command("webhook-secret", "Make a new webhook secret (the old one stops working) and print it once") { id }, async (p, api, output, ct) =>
        {
            output.Write(await api.PostAsync($"api/v1/repos/{Esc(p.GetValue(id))}:rotate_webhook_secret", null, ct));
            await env.Error.WriteLineAsync("The secret is shown only this once. Configure the source to POST to webhook_url signed with it (X-Hub-Signature-256) or sending it as a bearer token.");
            return ExitCodes.Ok;
        }));
        return repo;
    }

    /// <summary>The fields of a create or patch request; <c>clear_credential</c> only when asked, since create has no such field.</summary>
    private static JsonObject RepoBody(ParseResult p, RepoOptions o, string? name, string? url, object? credential, string? caBundle, bool clearCredential)
    {
        var interval = p.GetValue(o.SyncInterval);
        var body = System.Text.Json.JsonSerializer.SerializeToNode(new
        {
            name,
            description = p.GetValue(o.Description),
            url,
            credential,
            ca_bundle_pem = caBundle,
            providers = NullIfEmpty(p.GetValue(o.Providers)),
            labels = ParseLabels(p.GetValue(o.Labels)),
            selectors = NullIfEmpty(p.GetValue(o.Selectors)),
            visibility = p.GetValue(o.Visibility),
            group_id = p.GetValue(o.Group),
            group_ids = NullIfEmpty(p.GetValue(o.ShareGroups)),
            sync_interval_seconds = interval is null ? (int?)null : CliDuration.ParseSeconds(interval, "--sync-interval"),
            default_status = p.GetValue(o.DefaultStatus),
            fetch_packages = p.GetValue(o.FetchPackages),
        })!.AsObject();
        if (clearCredential)
        {
            body["clear_credential"] = true;
        }

        return body;
    }

    private static string[]? NullIfEmpty(string[]? values) => values is { Length: > 0 } ? values : null;

    /// <summary>The source's credential, read from standard input only: secrets on the command line are visible to every user of the machine.</summary>
    private static async Task<object?> ReadRepoCredentialAsync(CliEnvironment env, ParseResult p, RepoOptions o, CancellationToken ct)
    {
        var username = p.GetValue(o.Username);
        var passwordStdin = p.GetValue(o.PasswordStdin);
        var bearerStdin = p.GetValue(o.BearerTokenStdin);
        if (passwordStdin && bearerStdin)
        {
            throw new CliInputException("Give either --password-stdin or --bearer-token-stdin, not both.");
        }

        if (bearerStdin)
        {
            if (username is not null)
            {
                throw new CliInputException("--username goes with --password-stdin, not with a bearer token.");
            }

            var token = (await env.Input.ReadToEndAsync(ct)).Trim();
            return token.Length > 0 ? new { bearer_token = token } : throw new CliInputException("--bearer-token-stdin read nothing from standard input.");
        }

        if (passwordStdin)
        {
            if (username is null)
            {
                throw new CliInputException("--password-stdin needs --username.");
            }

            return new { username, password = await env.Input.ReadLineAsync(ct) ?? "" };
        }

        return username is null ? null : throw new CliInputException("--username needs --password-stdin: the password is read from standard input, never from the command line.");
    }

    private static async Task<string?> ReadCaBundleAsync(FileInfo? file, CancellationToken ct)
    {
        if (file is null)
        {
            return null;
        }

        if (!file.Exists)
        {
            throw new CliInputException($"CA file '{file.FullName}' does not exist.");
        }

        var pem = await File.ReadAllTextAsync(file.FullName, ct);
        return pem.Contains("-----BEGIN CERTIFICATE-----", StringComparison.Ordinal)
            ? pem
            : throw new CliInputException($"CA file '{file.FullName}' holds no PEM certificate (-----BEGIN CERTIFICATE-----).", ExitCodes.Invalid);
    }

    /// <summary>The sync queued when the repo was created: the newest of its history, which may take a moment to appear.</summary>
    private static async Task<JsonNode> InitialSyncAsync(CliEnvironment env, ApiClient api, string repoId, CancellationToken ct)
    {
        for (var attempt = 0; ; attempt++)
        {
            var page = await api.GetAsync($"api/v1/repos/{Esc(repoId)}/syncs?limit=1", ct);
            if (page?["items"] is JsonArray { Count: > 0 } items)
            {
                return items[0]!;
            }

            if (attempt == 20)
            {
                throw new ApiException(0, "cli.no_sync", "No sync", $"Repo {repoId} was created but no sync was queued for it; start one with `pitrix repo sync {repoId} --wait`.", null);
            }

            await Task.Delay(TimeSpan.FromMilliseconds(250), env.Time, ct);
        }
    }

    /// <summary>Polls a sync until it finishes, printing each change of its state; a failed sync exits non-zero.</summary>
    private static async Task<(JsonNode Sync, int ExitCode)> WaitForSyncAsync(CliEnvironment env, ApiClient api, string repoId, JsonNode sync, TimeSpan timeout, CancellationToken ct)
    {
        var syncId = (string)sync["id"]!;
        var started = env.Time.GetTimestamp();
        var delay = TimeSpan.FromMilliseconds(200);
        string? shown = null;
        while (true)
        {
            var progress = SyncProgress(sync);
            if (progress != shown)
            {
                await env.Error.WriteLineAsync($"Sync {syncId}: {progress}");
                shown = progress;
            }

            if (FinishedSyncStatuses.Contains((string?)sync["status"]))
            {
                break;
            }

            if (env.Time.GetElapsedTime(started) >= timeout)
            {
                await env.Error.WriteLineAsync($"Sync {syncId} is still {(string?)sync["status"]} after {CliDuration.Format((long)timeout.TotalSeconds)}; follow it with `pitrix repo syncs {repoId}`.");
                return (sync, ExitCodes.Unavailable);
            }

            await Task.Delay(delay, env.Time, ct);
            delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, TimeSpan.FromSeconds(2).Ticks));
            sync = await api.GetAsync($"api/v1/repos/{Esc(repoId)}/syncs/{Esc(syncId)}", ct) ?? sync;
        }

        foreach (var error in sync["errors"] as JsonArray ?? [])
        {
            await env.Error.WriteLineAsync($"  {(string?)error?["app"]} {(string?)error?["version"]}: {(string?)error?["message"]} [{(string?)error?["code"]}]");
        }

        if ((string?)sync["status"] == "failed")
        {
            await env.Error.WriteLineAsync($"Error: {(string?)sync["error_message"] ?? "the sync failed"} [{(string?)sync["error_code"]}]");
            return (sync, ExitCodes.Failure);
        }

        return (sync, ExitCodes.Ok);
    }

    private static string SyncProgress(JsonNode sync)
    {
        var status = (string?)sync["status"] ?? "unknown";
        if (status == "queued")
        {
            return status;
        }

        var counts = $"{Count(sync, "added")} added, {Count(sync, "updated")} updated, {Count(sync, "removed")} removed, {Count(sync, "failed")} failed";
        if (status == "running")
        {
            return $"running: {counts}, {Count(sync, "packages_fetched")} package(s) fetched";
        }

        var unchanged = (bool?)sync["unchanged"] == true ? " (index unchanged)" : "";
        return $"{status} in {Elapsed(sync["started_at"], sync["finished_at"]) ?? "?"}: {counts}{unchanged}";
    }

    private static long Count(JsonNode node, string field) => node[field] is JsonValue value && value.TryGetValue<long>(out var count) ? count : 0;

    private static JsonObject RepoView(JsonObject repo)
    {
        if (repo["last_sync"] is JsonObject sync)
        {
            repo["last_sync"] = $"{sync["id"]} {SyncProgress(sync)}";
        }

        if ((int?)repo["sync_interval_seconds"] is int seconds)
        {
            repo["sync_interval_seconds"] = Interval(seconds);
        }

        return repo;
    }

    /// <summary>The repo with the sync that was waited for as its last sync, whatever the server's view has moved on to.</summary>
    private static JsonNode? WithLastSync(JsonNode? repo, JsonNode sync)
    {
        if (repo is JsonObject o && (string?)o["last_sync"]?["id"] != (string?)sync["id"])
        {
            o["last_sync"] = sync.DeepClone();
        }

        return repo;
    }

    private static string Interval(long seconds) => seconds == 0 ? "manual" : CliDuration.Format(seconds);

    /// <summary>The time between two server timestamps, as 1.4s or 2m5s.</summary>
    private static string? Elapsed(JsonNode? from, JsonNode? to)
    {
        if (!DateTimeOffset.TryParse((string?)from, CultureInfo.InvariantCulture, DateTimeStyles.None, out var start)
            || !DateTimeOffset.TryParse((string?)to, CultureInfo.InvariantCulture, DateTimeStyles.None, out var end))
        {
            return null;
        }

        var elapsed = end - start;
        return elapsed.TotalSeconds < 60
            ? elapsed.TotalSeconds.ToString("0.0", CultureInfo.InvariantCulture) + "s"
            : CliDuration.Format((long)elapsed.TotalSeconds);
    }

    /// <summary>Prints one resource; in a table, through <paramref name="view"/> (on a copy), which turns nested objects into readable text.</summary>
    private static void WriteOne(Output output, JsonNode? node, Func<JsonObject, JsonObject> view)
    {
        output.Write(output.Format == "table" && node is JsonObject o ? view((JsonObject)o.DeepClone()) : node);
    }
}
