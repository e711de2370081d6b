using System.Text;
using System.Text.Json.Nodes;
using Pitrix.Packages;
using Pitrix.Packages.Helm;

namespace Pitrix.AppFormats.Helm;

/// <summary>Where a release lives: a kubeconfig (decrypted only in memory), its context, and the namespace.</summary>
public sealed record HelmTarget(string Kubeconfig, string? Context, string Namespace)
{
    public override string ToString() => $"HelmTarget {{ Namespace = {Namespace}, Context = {Context} }}";
}

/// <summary>A helm failure: a stable code, helm's exit code and the tail of its standard error.</summary>
public sealed class HelmReleaseException(string code, string message, int exitCode = -1) : Exception(message)
{
    /// <summary>helm exited non-zero for another reason; the message is its stderr.</summary>
    public const string Failed = "helm.failed";

    /// <summary>The release does not exist (or has no such revision).</summary>
    public const string NotFound = "helm.release_not_found";

    /// <summary>helm refused: another operation on the release is in progress (a pending-* release).</summary>
    public const string Locked = "helm.operation_in_progress";

    /// <summary>helm did not finish in time and was killed.</summary>
    public const string Timeout = "helm.timeout";

    public string Code { get; } = code;

    public int ExitCode { get; } = exitCode;
}

/// <summary>
/// A release as helm shows it; <see cref="Status"/> is deployed, failed, pending-install, pending-upgrade,
/// pending-rollback, uninstalling, uninstalled or superseded. <see cref="Chart"/> (name-version) is filled from
/// install and upgrade, whose output carries the chart; <c>helm status</c> leaves it empty (history has it).
/// </summary>
public sealed record HelmReleaseInfo(string Name, string Namespace, int Revision, string Status, string Chart, string? AppVersion, string? Description);

/// <summary>One revision as <c>helm history</c> shows it.</summary>
public sealed record HelmRevision(int Revision, string Status, string Chart, string? AppVersion, string? Description, string? Updated);

/// <summary>
/// Helm releases through the real <c>helm</c> binary (v3.17+; v4 too): install, upgrade, rollback, uninstall,
/// status, history and manifests, each one helm process with the target's kubeconfig written to a private file
/// (directory 0700, file 0600) deleted as soon as helm exits, <c>--namespace</c>, values from a file, and no
/// <c>--wait</c> (readiness is read from the cluster by <see cref="ReleaseReadiness"/>). Every argument is argv.
/// </summary>
public sealed class HelmReleases(HelmCli helm)
{
    private const string AnotherOperation = "another operation (install/upgrade/rollback) is in progress";

    /// <summary>How long one helm call may take. Default: 5 minutes.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// A new release. helm 4 would apply it server-side by default; it is applied client-side with either major
    /// (<c>--server-side=false</c> on helm 4), as helm 3 does, so a release behaves the same whichever binary drives
    /// it: the same three-way merge on upgrade, no field-manager conflicts with controllers that own fields (an
    /// autoscaler's replicas), and charts that server-side apply refuses on API servers before 1.21 (a Service port
    /// without <c>protocol</c>) still install. Later upgrades and rollbacks keep the release's method (helm 4's
    /// <c>--server-side=auto</c>), so switching <c>Helm:Path</c> between 3 and 4 never changes how a release applies.
    /// </summary>
    public async Task<HelmReleaseInfo> InstallAsync(HelmTarget target, string release, string chartPath, string? valuesYaml, CancellationToken cancellationToken, bool createNamespace = true)
    {
        List<string> args = ["install", release, chartPath, "--output", "json"];
        if (createNamespace)
        {
            args.Add("--create-namespace");
        }

        if (await MajorVersionAsync(cancellationToken) >= 4)
        {
            args.Add("--server-side=false");
        }

        return ParseRelease(await RunAsync(target, args, valuesYaml, cancellationToken));
    }

    /// <summary>An upgrade to <paramref name="chartPath"/> with exactly these user values over the chart's defaults.</summary>
    public async Task<HelmReleaseInfo> UpgradeAsync(HelmTarget target, string release, string chartPath, string? valuesYaml, CancellationToken cancellationToken) =>
        ParseRelease(await RunAsync(target, ["upgrade", release, chartPath, "--output", "json", "--reset-values"], valuesYaml, cancellationToken));

    public async Task RollbackAsync(HelmTarget target, string release, int revision, CancellationToken cancellationToken) =>
        await RunAsync(target, ["rollback", release, revision.ToString(System.Globalization.CultureInfo.InvariantCulture)], null, cancellationToken);

    public async Task UninstallAsync(HelmTarget target, string release, bool keepHistory, CancellationToken cancellationToken)
    {
        List<string> args = ["uninstall", release];
        if (keepHistory)
        {
            args.Add("--keep-history");
        }

        await RunAsync(target, args, null, cancellationToken);
    }

    /// <summary>
    /// Frees a release an interrupted helm left in <c>pending-install</c>, <c>pending-upgrade</c> or
    /// <c>pending-rollback</c> (which makes every later helm operation fail with "another operation is in
    /// progress"): rolled back to its last deployed revision, or, when it never was deployed, uninstalled.
    /// Returns what was done, or null when the release needed nothing.
    /// </summary>
    public async Task<string?> RepairAsync(HelmTarget target, string release, CancellationToken cancellationToken) =>
        await RepairAsync(target, release, await StatusAsync(target, release, cancellationToken), cancellationToken);

    /// <summary>As <see cref="RepairAsync(HelmTarget, string, CancellationToken)"/>, with the release's status already read.</summary>
    public async Task<string?> RepairAsync(HelmTarget target, string release, HelmReleaseInfo? status, CancellationToken cancellationToken)
    {
        if (status is null || !status.Status.StartsWith("pending-", StringComparison.Ordinal))
        {
            return null;
        }

        var history = await HistoryAsync(target, release, cancellationToken);
        if (history.LastOrDefault(r => r.Status is "deployed" or "superseded" && r.Revision < status.Revision) is { } last)
        {
            await RollbackAsync(target, release, last.Revision, cancellationToken);
            return $"release {release} was {status.Status} at revision {status.Revision}; rolled back to revision {last.Revision}";
        }

        await UninstallAsync(target, release, keepHistory: false, cancellationToken);
        return $"release {release} was {status.Status} at revision {status.Revision} and never deployed; uninstalled";
    }

    /// <summary>The release's current state, or null when helm knows no such release.</summary>
    public async Task<HelmReleaseInfo?> StatusAsync(HelmTarget target, string release, CancellationToken cancellationToken)
    {
        try
        {
            return ParseRelease(await RunAsync(target, ["status", release, "--output", "json"], null, cancellationToken));
        }
        catch (HelmReleaseException e) when (e.Code == HelmReleaseException.NotFound)
        {
            return null;
        }
    }

    /// <summary>Every revision of the release, oldest first; empty when there is none.</summary>
    public async Task<IReadOnlyList<HelmRevision>> HistoryAsync(HelmTarget target, string release, CancellationToken cancellationToken)
    {
        string output;
        try
        {
            output = await RunAsync(target, ["history", release, "--output", "json", "--max", "1000"], null, cancellationToken);
        }
        catch (HelmReleaseException e) when (e.Code == HelmReleaseException.NotFound)
        {
            return [];
        }

        return (JsonNode.Parse(output) as JsonArray ?? [])
            .OfType<JsonObject>()
            .Select(r => new HelmRevision((int)r["revision"]!, (string?)r["status"] ?? "", (string?)r["chart"] ?? "", (string?)r["app_version"], (string?)r["description"], (string?)r["updated"]))
            .OrderBy(r => r.Revision)
            .ToList();
    }

    /// <summary>The manifest helm applied for the release (its current revision, or <paramref name="revision"/>).</summary>
    public Task<string> ManifestAsync(HelmTarget target, string release, CancellationToken cancellationToken, int? revision = null)
    {
        List<string> args = ["get", "manifest", release];
        if (revision is { } r)
        {
            args.AddRange(["--revision", r.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        }

        return RunAsync(target, args, null, cancellationToken);
    }

    /// <summary>helm's major version (read once per <see cref="HelmCli"/>), its failures with this class's codes.</summary>
    private async Task<int> MajorVersionAsync(CancellationToken cancellationToken)
    {
        try
        {
            return await helm.MajorVersionAsync(cancellationToken);
        }
        catch (PackageException e)
        {
            throw new HelmReleaseException(e.Code, e.Message);
        }
    }

    private async Task<string> RunAsync(HelmTarget target, List<string> args, string? valuesYaml, CancellationToken cancellationToken)
    {
        // A private directory per call: the kubeconfig and values never sit where another user could read them.
        var directory = Directory.CreateTempSubdirectory("pitrix-helm-");
        try
        {
            if (!OperatingSystem.IsWindows())
            {
                File.SetUnixFileMode(directory.FullName, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            }

            var kubeconfig = Path.Combine(directory.FullName, "kubeconfig");
            await WritePrivateAsync(kubeconfig, target.Kubeconfig, cancellationToken);
            args.AddRange(["--namespace", target.Namespace]);
            if (!string.IsNullOrWhiteSpace(target.Context))
            {
                args.AddRange(["--kube-context", target.Context]);
            }

            if (valuesYaml is not null)
            {
                var values = Path.Combine(directory.FullName, "values.yaml");
                await WritePrivateAsync(values, valuesYaml, cancellationToken);
                args.AddRange(["--values", values]);
            }

            int exitCode;
            string stdout, stderr;
            try
            {
                (exitCode, stdout, stderr) = await helm.RunAsync(args, Timeout, cancellationToken, kubeconfig);
            }
            catch (PackageException e) when (e.Code == "helm.timeout")
            {
                throw new HelmReleaseException(HelmReleaseException.Timeout, $"helm {args[0]} did not finish within {Timeout.TotalSeconds:0} s and was stopped.");
            }

            if (exitCode == 0)
            {
                return stdout;
            }

            var message = Scrub(stderr, directory.FullName);
            var code = message.Contains(AnotherOperation, StringComparison.Ordinal) ? HelmReleaseException.Locked
                : message.Contains("not found", StringComparison.OrdinalIgnoreCase) && args[0] is "status" or "history" or "get" or "rollback" or "uninstall" ? HelmReleaseException.NotFound
                : HelmReleaseException.Failed;
            throw new HelmReleaseException(code, $"helm {args[0]} failed (exit {exitCode}): {message}", exitCode);
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    /// <summary>helm's stderr without the private directory's path, bounded to its last 4,000 characters.</summary>
    private static string Scrub(string stderr, string directory)
    {
        var text = stderr.Replace(directory, "<private>", StringComparison.Ordinal).Trim();
        return text.Length > 4000 ? text[^4000..] : text.Length == 0 ? "(no message)" : text;
    }

    private static async Task WritePrivateAsync(string path, string content, CancellationToken cancellationToken)
    {
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        await using var stream = new FileStream(path, options);
        await stream.WriteAsync(Encoding.UTF8.GetBytes(content), cancellationToken);
    }

    private static HelmReleaseInfo ParseRelease(string json)
    {
        var release = JsonNode.Parse(json) as JsonObject ?? throw new HelmReleaseException(HelmReleaseException.Failed, "helm printed no release.");
        var info = release["info"] as JsonObject;
        var metadata = release["chart"]?["metadata"] as JsonObject;
        return new HelmReleaseInfo(
            (string?)release["name"] ?? "",
            (string?)release["namespace"] ?? "",
            (int?)release["version"] ?? 0,
            (string?)info?["status"] ?? "unknown",
            metadata is null ? "" : $"{metadata["name"]}-{metadata["version"]}",
            (string?)metadata?["appVersion"],
            (string?)info?["description"]);
    }
}
