using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;
using k8s;
using k8s.Models;
using Pitrix.AppFormats.Helm;
using Pitrix.Packages.Helm;
using Pitrix.Providers.Kubernetes;
using Pitrix.Testing;

// Helm apps on a real kube-apiserver (PITRIX_KUBE_APISERVER) with the real helm (PITRIX_HELM), a pitrix-server in
// this process. Measures:
//   install    --runs times: POST /clusters of the sample chart until its release task has installed the release,
//              and until the first readiness evaluation (the ready task's first attempt); beside it the same
//              chart installed by a bare `helm install` (HelmReleases) into its own namespace: the ratio is
//              Pitrix's overhead. The test stands in for the controllers to make each cluster ready, then ceases it.
//   refresh    --releases releases installed by helm, then the readiness of all of them evaluated (helm get
//              manifest + every object read from the API server), sequentially: total and per release; then the
//              same releases observed as the engine now does (manifest from the release Secret, reads, pods).
static string Arg(string name, string fallback)
{
    var args = Environment.GetCommandLineArgs();
    var i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? args[i + 1] : fallback;
}

static double Percentile(List<double> samples, double p)
{
    var sorted = samples.Order().ToArray();
    return sorted.Length == 0 ? double.NaN : sorted[Math.Clamp((int)Math.Ceiling(p / 100 * sorted.Length) - 1, 0, sorted.Length - 1)];
}

static string Summary(List<double> s) =>
    string.Create(CultureInfo.InvariantCulture, $"n={s.Count} p50={Percentile(s, 50):0} p90={Percentile(s, 90):0} p99={Percentile(s, 99):0} max={(s.Count == 0 ? double.NaN : s.Max()):0} ms");

static string Load() => File.ReadAllText("/proc/loadavg")[..14].Trim();

var runs = int.Parse(Arg("--runs", "10"), CultureInfo.InvariantCulture);
var releaseCount = int.Parse(Arg("--releases", "100"), CultureInfo.InvariantCulture);
var helmPath = Environment.GetEnvironmentVariable("PITRIX_HELM") ?? throw new InvalidOperationException("Set PITRIX_HELM (test.sh caches helm under ~/.cache/pitrix).");

var kube = new KubeApiServer();
await kube.InitializeAsync();
TestServer? server = null;
try
{
    server = await TestServer.StartAsync("sqlite", "--Logging:LogLevel:Default=Error", $"--Helm:Path={helmPath}");
    using var admin = await server.LoginAdminAsync();
    using var client = new k8s.Kubernetes(Kubeconfigs.Load(kube.AdminKubeconfig, null));
    var helm = new HelmReleases(new HelmCli(helmPath));
    Console.WriteLine($"cores={Environment.ProcessorCount} load={Load()} helm={await new HelmCli(helmPath).VersionAsync(CancellationToken.None)}");

    string[] providers = ["kubernetes"];
    var repo = await admin.PostAsync("/api/v1/repos", new { name = ServerFixture.Unique("charts"), visibility = "public", providers });
    var (chartName, archive) = await SamplePackages.BuildChartAsync();
    var uploaded = await admin.UploadAsync("/api/v1/apps", archive, fields: new Dictionary<string, string> { ["repo_id"] = repo.Id });
    foreach (var step in new[] { "submit", "review", "pass", "release" })
    {
        await admin.PostAsync($"/api/v1/app_versions/{uploaded.Id}:{step}");
    }

    var credential = await admin.PostAsync("/api/v1/credentials", new { name = ServerFixture.Unique("kube"), provider = "kubernetes", secret = kube.AdminKubeconfig });
    var chartDirectory = SamplePackages.CopyTree(RepoFiles.Path("samples", "charts", "hello-web"), "pitrix-bench-chart-");

    // install
    var installed = new List<double>();
    var evaluated = new List<double>();
    var active = new List<double>();
    var reaction = new List<double>();
    var bare = new List<double>();
    var before = Load();
    for (var run = 0; run < runs; run++)
    {
        var ns = $"bench-{run}-{Guid.NewGuid():N}"[..20];
        var runtime = await admin.PostAsync("/api/v1/runtimes", new { name = ServerFixture.Unique("k8s"), provider = "kubernetes", zone = ns, credential_id = credential.Id });
        var clock = Stopwatch.StartNew();
        var created = await admin.PostAsync("/api/v1/clusters", new { name = ServerFixture.Unique("web"), app_version_id = uploaded.Id, runtime_id = runtime.Id });
        if (created.Status != HttpStatusCode.Accepted)
        {
            throw new InvalidOperationException(created.ToString());
        }

        var clusterId = (string)created.Body!["cluster"]!["id"]!;
        var jobId = (string)created.Body["job"]!["id"]!;
        double? installedAt = null, evaluatedAt = null;
        while (evaluatedAt is null)
        {
            var tasks = (await admin.GetAsync($"/api/v1/jobs/{jobId}")).Body!["tasks"]!.AsArray();
            var release = tasks.Single(t => (string?)t!["key"] == "release")!;
            var ready = tasks.Single(t => (string?)t!["key"] == "ready")!;
            if (installedAt is null && (string?)release["status"] == "succeeded")
            {
                installedAt = clock.Elapsed.TotalMilliseconds;
            }

            // The ready task stores its first observation of the release (then keeps watching).
            if ((string?)ready["status"] == "succeeded" || (await admin.GetAsync($"/api/v1/clusters/{clusterId}")).Body!["observed"] is not null)
            {
                evaluatedAt = clock.Elapsed.TotalMilliseconds;
                installedAt ??= evaluatedAt;
            }

            await Task.Delay(10);
        }

        installed.Add(installedAt!.Value);
        evaluated.Add(evaluatedAt.Value);

        // Stand in for the controllers, then wait for the job.
        var deployment = $"{HelmFormat.ReleaseName(clusterId)}-{chartName}";
        var live = await client.AppsV1.ReadNamespacedDeploymentAsync(deployment, ns);
        var status = new JsonObject { ["status"] = new JsonObject { ["observedGeneration"] = live.Metadata.Generation, ["replicas"] = 1, ["updatedReplicas"] = 1, ["readyReplicas"] = 1, ["availableReplicas"] = 1 } };
        await client.AppsV1.PatchNamespacedDeploymentStatusAsync(new V1Patch(status.ToJsonString(), V1Patch.PatchType.MergePatch), deployment, ns);
        var patchedAt = clock.Elapsed.TotalMilliseconds;
        while ((await admin.GetAsync($"/api/v1/jobs/{jobId}")).Body!["job"]!["finished_at"] is null)
        {
            await Task.Delay(10);
        }

        active.Add(clock.Elapsed.TotalMilliseconds);
        reaction.Add(clock.Elapsed.TotalMilliseconds - patchedAt);
        await admin.PostAsync($"/api/v1/clusters/{clusterId}:cease", new { force = true });

        var bareClock = Stopwatch.StartNew();
        await helm.InstallAsync(new HelmTarget(kube.AdminKubeconfig, null, ns + "-b"), "bare", chartDirectory, null, CancellationToken.None);
        bare.Add(bareClock.Elapsed.TotalMilliseconds);
    }

    Console.WriteLine($"[install] load {before} -> {Load()}");
    Console.WriteLine($"[install]   POST -> release installed        {Summary(installed)}");
    Console.WriteLine($"[install]   POST -> first readiness read     {Summary(evaluated)}");
    Console.WriteLine($"[install]   POST -> active (after the patch) {Summary(active)}");
    Console.WriteLine($"[install]   status patch -> job finished  {Summary(reaction)}");
    Console.WriteLine($"[install]   bare helm install             {Summary(bare)}");
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"[install]   overhead: installed p50 / bare p50 = {Percentile(installed, 50) / Percentile(bare, 50):0.00}x"));

    // refresh
    var target = new HelmTarget(kube.AdminKubeconfig, null, $"refresh-{Guid.NewGuid():N}"[..20]);
    var installClock = Stopwatch.StartNew();
    for (var i = 0; i < releaseCount; i++)
    {
        await helm.InstallAsync(target, $"r{i}", chartDirectory, null, CancellationToken.None);
    }

    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"[refresh] {releaseCount} releases installed by helm in {installClock.Elapsed.TotalSeconds:0.0} s; load {Load()}"));
    // As the readiness task did before: helm get manifest, then every object read.
    var perRelease = new List<double>();
    var manifests = new List<double>();
    var total = Stopwatch.StartNew();
    for (var i = 0; i < releaseCount; i++)
    {
        var one = Stopwatch.StartNew();
        var manifest = await helm.ManifestAsync(target, $"r{i}", CancellationToken.None);
        manifests.Add(one.Elapsed.TotalMilliseconds);
        var state = await ReleaseReadiness.EvaluateAsync(client, manifest, target.Namespace, CancellationToken.None);
        if (state.Resources.Count != 3)
        {
            throw new InvalidOperationException($"r{i}: {state.Resources.Count} resources");
        }

        perRelease.Add(one.Elapsed.TotalMilliseconds);
    }

    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"[refresh] helm get manifest + reads: all {releaseCount} in {total.Elapsed.TotalSeconds:0.00} s; load {Load()}"));
    Console.WriteLine($"[refresh]   per release                     {Summary(perRelease)}");
    Console.WriteLine($"[refresh]   of which helm get manifest      {Summary(manifests)}");

    // As the observer does now (HelmStatusSync's pass, the readiness task's read): the manifest from the release
    // Secret, every object read, each workload's pods listed, endpoints built.
    var observer = new ReleaseObserver(helm);
    var observed = new List<double>();
    var stored = new List<double>();
    total.Restart();
    for (var i = 0; i < releaseCount; i++)
    {
        var one = Stopwatch.StartNew();
        _ = await ReleaseObserver.StoredManifestAsync(client, target.Namespace, $"r{i}", CancellationToken.None) ?? throw new InvalidOperationException($"r{i}: no release Secret");
        stored.Add(one.Elapsed.TotalMilliseconds);
        one.Restart();
        var view = await observer.ObserveAsync(client, target, $"r{i}", CancellationToken.None);
        if (view.Status.Resources.Count != 3 || view.Workloads.Count != 1)
        {
            throw new InvalidOperationException($"r{i}: {view.Status.Resources.Count} resources, {view.Workloads.Count} workloads");
        }

        observed.Add(one.Elapsed.TotalMilliseconds);
    }

    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"[refresh] observer (manifest from the release Secret, reads, pods): all {releaseCount} in {total.Elapsed.TotalSeconds:0.00} s; load {Load()}"));
    Console.WriteLine($"[refresh]   per release                     {Summary(observed)}");
    Console.WriteLine($"[refresh]   manifest from the Secret alone  {Summary(stored)}");
    Directory.Delete(chartDirectory, recursive: true);
}
finally
{
    if (server is not null)
    {
        await server.DisposeAsync();
    }

    await kube.DisposeAsync();
}
