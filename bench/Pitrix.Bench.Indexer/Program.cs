using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Pitrix.Catalog;
using Pitrix.Catalog.Indexing;
using Pitrix.Core;
using Pitrix.Core.Catalog;
using Pitrix.Core.Identity;
using Pitrix.Core.Security;
using Pitrix.Packages.Repos;
using Pitrix.Persistence;
using Pitrix.Testing;

// Sync benchmark: a directory repo whose index lists --apps apps with --versions versions each
// (default 1,500 x 10, about 14 MB of index.yaml), synced with fetch policy "none" (index metadata only),
// on SQLite or PostgreSQL (PITRIX_TEST_POSTGRES). Measures the first full sync, an unchanged sync, and
// a sync after one entry changed, with the process's peak working set and, sampled every 10 ms during
// each sync, the peak managed heap and working set; then RepoIndex.Parse alone on the same bytes.
var database = Arg("--database", "sqlite");
var appCount = int.Parse(Arg("--apps", "1500"), CultureInfo.InvariantCulture);
var versionCount = int.Parse(Arg("--versions", "10"), CultureInfo.InvariantCulture);
var work = Directory.CreateTempSubdirectory("pitrix-bench-indexer-").FullName;
try
{
    var repoDirectory = Directory.CreateDirectory(Path.Combine(work, "repo")).FullName;
    var indexPath = Path.Combine(repoDirectory, "index.yaml");
    await File.WriteAllTextAsync(indexPath, Index(appCount, versionCount, "A synthetic application"));
    await using var db = database == "postgres" ? await TestDatabase.PostgresAsync() : TestDatabase.Sqlite(work);
    var services = new ServiceCollection()
        .AddLogging(l => l.SetMinimumLevel(LogLevel.Warning).AddConsole())
        .AddPitrixPersistence(new DatabaseOptions { Provider = db.Provider, ConnectionString = db.ConnectionString })
        .AddSingleton<ISecretProtector, NoProtector>()
        .AddPitrixCatalog(new ConfigurationBuilder().Build());
    await using var provider = services.BuildServiceProvider();
    var repoId = await SeedAsync(provider, new Uri(repoDirectory + "/").AbsoluteUri);

    Console.WriteLine($"database={database} apps={appCount} versions={appCount * versionCount} index={new FileInfo(indexPath).Length / 1024 / 1024.0:0.0} MiB cores={Environment.ProcessorCount}");
    Console.WriteLine($"before the first sync: heap {GC.GetTotalMemory(forceFullCollection: false) / 1024 / 1024} MiB, working set {Environment.WorkingSet / 1024 / 1024} MiB");
    Console.WriteLine("| sync | ms | added | updated | removed | unchanged | peak heap MiB | peak working set MiB (sync) | peak working set MiB (process) |");
    Console.WriteLine("|---|---|---|---|---|---|---|---|---|");
    await MeasureAsync(provider, repoId, "first (full)");
    await MeasureAsync(provider, repoId, "unchanged (same digest)");
    await File.WriteAllTextAsync(indexPath, Index(appCount, versionCount, "A synthetic application", changed: 7));
    await MeasureAsync(provider, repoId, "one entry changed");
    MeasureParse(await File.ReadAllBytesAsync(indexPath));
}
finally
{
    Directory.Delete(work, recursive: true);
}

static async Task MeasureAsync(IServiceProvider provider, string repoId, string label)
{
    RepoSync sync;
    await using (var scope = provider.CreateAsyncScope())
    {
        sync = await provider.GetRequiredService<RepoSyncRequests>().RequestAsync(scope.ServiceProvider.GetRequiredService<PitrixDbContext>(), repoId, SyncTrigger.Manual, null, CancellationToken.None);
    }

    RepoSync? done;
    long elapsed;
    using (var sampler = new MemorySampler())
    {
        var watch = Stopwatch.StartNew();
        var result = await provider.GetRequiredService<RepoSyncer>().RunAsync(sync.Id, CancellationToken.None);
        elapsed = watch.ElapsedMilliseconds;
        done = result.Sync!;
        sampler.Stop();
        Console.Write($"| {label} | {elapsed} | {done.Added} | {done.Updated} | {done.Removed} | {done.Unchanged} | {sampler.PeakHeap / 1024 / 1024} | {sampler.PeakWorkingSet / 1024 / 1024} ");
    }

    if (done.Status != SyncStatus.Succeeded)
    {
        throw new InvalidOperationException($"Sync {done.Status}: {done.ErrorCode} {done.ErrorMessage}");
    }

    Console.WriteLine($"| {Process.GetCurrentProcess().PeakWorkingSet64 / 1024 / 1024} |");
}

// RepoIndex.Parse alone: best of five, bytes allocated, and the heap the parsed index keeps alive.
static void MeasureParse(byte[] index)
{
    var runs = Enumerable.Range(0, 5).Select(_ => ParseOnce(index)).ToList();
    var (_, allocated, retained) = runs[^1];
    Console.WriteLine($"parse only: {runs.Min(r => r.Milliseconds)} ms (best of 5), {allocated / 1024 / 1024} MiB allocated, {retained / 1024 / 1024} MiB retained by the parsed index");
}

[System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
static (long Milliseconds, long Allocated, long Retained) ParseOnce(byte[] index)
{
    var before = GC.GetTotalMemory(forceFullCollection: true);
    var allocatedBefore = GC.GetAllocatedBytesForCurrentThread();
    var watch = Stopwatch.StartNew();
    var parsed = RepoIndex.Parse(index);
    var elapsed = watch.ElapsedMilliseconds;
    var allocated = GC.GetAllocatedBytesForCurrentThread() - allocatedBefore;
    var retained = GC.GetTotalMemory(forceFullCollection: true) - before;
    GC.KeepAlive(parsed);
    return (elapsed, allocated, retained);
}

static async Task<string> SeedAsync(IServiceProvider provider, string url)
{
    await using var scope = provider.CreateAsyncScope();
    var db = scope.ServiceProvider.GetRequiredService<PitrixDbContext>();
    await db.Database.MigrateAsync();
    var now = DateTimeOffset.UtcNow;
    var user = new User { Id = Id.New(IdPrefix.User), Name = "bench", NormalizedName = "bench", PasswordHash = "x", CreatedAt = now, UpdatedAt = now };
    var repo = new Repo { Id = Id.New(IdPrefix.Repo), Name = "bench", Type = RepoType.File, Url = url, OwnerId = user.Id, FetchPackages = PackageFetchPolicy.None, CreatedAt = now, UpdatedAt = now };
    db.AddRange(user, repo);
    await db.SaveChangesAsync();
    return repo.Id;
}

static string Index(int apps, int versions, string description, int changed = -1)
{
    var yaml = new StringBuilder("apiVersion: v1\nentries:\n");
    for (var a = 0; a < apps; a++)
    {
        yaml.Append(CultureInfo.InvariantCulture, $"  app-{a:0000}:\n");
        for (var v = versions - 1; v >= 0; v--)
        {
            var digest = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes($"{a}/{v}")));
            var text = a == changed && v == 0 ? description + " (changed)" : description;
            yaml.Append(CultureInfo.InvariantCulture, $"""
                  - apiVersion: v2
                    name: app-{a:0000}
                    version: 1.{v}.0
                    appVersion: "{v}.{a}"
                    description: {text} number {a}, version {v}, with enough words to look like a real chart's description line of moderate length for this benchmark
                    home: https://example.com/apps/app-{a:0000}
                    icon: https://example.com/apps/app-{a:0000}/icon.png
                    keywords: [database, cache, synthetic, bench, app{a}]
                    maintainers:
                    - name: Maintainer {a}
                      email: maintainer{a}@example.com
                    - name: Second Maintainer
                      email: second@example.com
                    sources: [https://github.com/example/app-{a:0000}, https://example.com/src/app-{a:0000}]
                    created: 2026-01-01T00:00:00Z
                    digest: {digest}
                    urls: [app-{a:0000}-1.{v}.0.tgz]

                """);
        }
    }

    return yaml.ToString();
}

static string Arg(string name, string fallback)
{
    var args = Environment.GetCommandLineArgs();
    var i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? args[i + 1] : fallback;
}

/// <summary>Samples the managed heap and the working set every 10 ms until stopped, keeping the peaks.</summary>
internal sealed class MemorySampler : IDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly Thread _thread;

    public MemorySampler()
    {
        _thread = new Thread(() =>
        {
            while (!_stop.IsCancellationRequested)
            {
                Sample();
                _stop.Token.WaitHandle.WaitOne(10);
            }
        }) { IsBackground = true };
        _thread.Start();
    }

    public long PeakHeap { get; private set; }

    public long PeakWorkingSet { get; private set; }

    public void Stop()
    {
        _stop.Cancel();
        _thread.Join();
        Sample();
    }

    public void Dispose() => _stop.Dispose();

    private void Sample()
    {
        PeakHeap = Math.Max(PeakHeap, GC.GetTotalMemory(forceFullCollection: false));
        PeakWorkingSet = Math.Max(PeakWorkingSet, Environment.WorkingSet);
    }
}

internal sealed class NoProtector : ISecretProtector
{
    public string Protect(string plaintext) => plaintext;

    public string Unprotect(string ciphertext) => ciphertext;
}
