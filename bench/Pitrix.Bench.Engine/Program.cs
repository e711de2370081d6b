using System.Diagnostics;
using System.Globalization;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Pitrix.Core.Engine;
using Pitrix.Engine;
using Pitrix.Persistence;
using Pitrix.Testing;

// Engine throughput and scheduling latency with noop tasks (no delay): jobs of five tasks in a DAG
// (a -> b,c -> d -> e). The engine runs in this process (--workers 0) or in N Pitrix.Engine.Worker
// processes (--workers N) on SQLite or PostgreSQL (PITRIX_TEST_POSTGRES).
//   1. Throughput: --jobs jobs are enqueued back to back while the engine runs; jobs/hour and tasks/s are
//      counted from the first enqueue to the last job's FinishedAt.
//   2. Latency: --rate jobs/s are enqueued on a fixed schedule for --seconds; each task's scheduling
//      latency is its attempt's StartedAt minus its ReadyAt (enqueue for the root task, the release by its
//      last dependency for the others), reported as p50/p99/max.
var database = Arg("--database", "sqlite");
var workers = int.Parse(Arg("--workers", "0"), CultureInfo.InvariantCulture);
var jobCount = int.Parse(Arg("--jobs", "2000"), CultureInfo.InvariantCulture);
var rate = double.Parse(Arg("--rate", "10"), CultureInfo.InvariantCulture);
var seconds = int.Parse(Arg("--seconds", "20"), CultureInfo.InvariantCulture);
var concurrency = Arg("--concurrency", "50");
var work = Directory.CreateTempSubdirectory("pitrix-bench-engine-").FullName;
var started = new List<Process>();
try
{
    await using var testDatabase = database == "postgres" ? await TestDatabase.PostgresAsync() : TestDatabase.Sqlite(work);

    // Pooled connections, as pitrix-server uses them (the test fixture turns SQLite pooling off).
    var connectionString = testDatabase.Provider == "sqlite"
        ? testDatabase.ConnectionString.Replace("Pooling=False", "Pooling=True;Default Timeout=30", StringComparison.Ordinal)
        : testDatabase.ConnectionString;
    var settings = new Dictionary<string, string?>
    {
        ["Engine:MaxConcurrentTasks"] = concurrency,
        ["Engine:InstanceId"] = "bench-in-process",
    };
    var services = new ServiceCollection()
        .AddLogging(l => l.SetMinimumLevel(LogLevel.Warning).AddConsole())
        .AddPitrixPersistence(new DatabaseOptions { Provider = testDatabase.Provider, ConnectionString = connectionString });
    if (workers == 0)
    {
        services.AddEngine(new ConfigurationBuilder().AddInMemoryCollection(settings).Build());
    }

    await using var provider = services.BuildServiceProvider();
    await using (var scope = provider.CreateAsyncScope())
    {
        await scope.ServiceProvider.GetRequiredService<PitrixDbContext>().Database.MigrateAsync();
    }

    var hosted = provider.GetServices<IHostedService>().ToList();
    foreach (var service in hosted)
    {
        await service.StartAsync(CancellationToken.None);
    }

    for (var i = 0; i < workers; i++)
    {
        started.Add(await StartWorkerAsync(testDatabase.Provider, connectionString, $"bench-worker-{i + 1}", concurrency));
    }

    Console.WriteLine($"database={database} engine={(workers == 0 ? "in-process" : $"{workers} worker process(es)")} max_concurrent_tasks={concurrency} cores={Environment.ProcessorCount}");

    // Warm-up (JIT, connection pools), not reported.
    await RunBatchAsync(provider, Math.Min(200, jobCount), "warmup");

    var (elapsed, enqueueSeconds) = await RunBatchAsync(provider, jobCount, "throughput");
    Console.WriteLine($"throughput: {jobCount} jobs ({jobCount * 5} tasks) in {elapsed.TotalSeconds:0.00} s (enqueue took {enqueueSeconds:0.00} s): " +
        $"{jobCount / elapsed.TotalHours:N0} jobs/hour, {jobCount * 5 / elapsed.TotalSeconds:N0} tasks/s");

    var latencyJobs = await RunOpenLoopAsync(provider, rate, seconds);
    await using (var scope = provider.CreateAsyncScope())
    {
        var db = scope.ServiceProvider.GetRequiredService<PitrixDbContext>();
        var rows = await db.JobTasks.AsNoTracking().Where(t => latencyJobs.Contains(t.JobId))
            .Join(db.JobTaskAttempts, t => t.Id, a => a.TaskId, (t, a) => new { t.Key, t.ReadyAt, a.StartedAt })
            .ToListAsync();
        Report("all tasks", rows.Select(r => (r.StartedAt - r.ReadyAt!.Value).TotalMilliseconds).ToList());
        Report("root (woken by enqueue)", rows.Where(r => r.Key == "a").Select(r => (r.StartedAt - r.ReadyAt!.Value).TotalMilliseconds).ToList());
        Report("dependents (woken by release)", rows.Where(r => r.Key != "a").Select(r => (r.StartedAt - r.ReadyAt!.Value).TotalMilliseconds).ToList());
        if (workers > 1)
        {
            var byWorker = await db.JobTaskAttempts.AsNoTracking().GroupBy(a => a.Worker).Select(g => new { g.Key, Count = g.Count() }).ToListAsync();
            Console.WriteLine("attempts by worker: " + string.Join(", ", byWorker.Select(w => $"{w.Key}={w.Count}")));
        }
    }

    foreach (var service in hosted)
    {
        await service.StopAsync(CancellationToken.None);
    }
}
finally
{
    foreach (var process in started)
    {
        if (!process.HasExited)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }

        process.Dispose();
    }

    Directory.Delete(work, recursive: true);
}

static TaskPlan Plan() => new("create",
[
    new PlannedTask("a", NoopTaskHandler.KindName, []),
    new PlannedTask("b", NoopTaskHandler.KindName, ["a"]),
    new PlannedTask("c", NoopTaskHandler.KindName, ["a"]),
    new PlannedTask("d", NoopTaskHandler.KindName, ["b", "c"]),
    new PlannedTask("e", NoopTaskHandler.KindName, ["d"]),
]);

static async Task<(TimeSpan Elapsed, double EnqueueSeconds)> RunBatchAsync(IServiceProvider provider, int count, string cluster)
{
    var ids = new List<string>(count);
    var first = DateTimeOffset.UtcNow;
    var clock = Stopwatch.StartNew();
    await using (var scope = provider.CreateAsyncScope())
    {
        var db = scope.ServiceProvider.GetRequiredService<PitrixDbContext>();
        for (var i = 0; i < count; i++)
        {
            ids.Add((await TaskLedger.EnqueueAsync(db, cluster, Plan(), null, DateTimeOffset.UtcNow, CancellationToken.None)).Value!.Id);
        }
    }

    var enqueueSeconds = clock.Elapsed.TotalSeconds;
    await WaitFinishedAsync(provider, cluster, count);
    await using (var scope = provider.CreateAsyncScope())
    {
        var db = scope.ServiceProvider.GetRequiredService<PitrixDbContext>();
        var finishedAt = await db.Jobs.AsNoTracking().Where(j => j.ClusterId == cluster).Select(j => j.FinishedAt!.Value).ToListAsync();
        var failed = await db.Jobs.CountAsync(j => j.ClusterId == cluster && j.Status != JobStatus.Succeeded);
        if (failed > 0)
        {
            throw new InvalidOperationException($"{failed} jobs did not succeed.");
        }

        return (finishedAt.Max() - first, enqueueSeconds);
    }
}

static async Task<List<string>> RunOpenLoopAsync(IServiceProvider provider, double rate, int seconds)
{
    var ids = new List<string>();
    var total = (int)(rate * seconds);
    var clock = Stopwatch.StartNew();
    await using (var scope = provider.CreateAsyncScope())
    {
        var db = scope.ServiceProvider.GetRequiredService<PitrixDbContext>();
        for (var i = 0; i < total; i++)
        {
            var due = TimeSpan.FromSeconds(i / rate);
            if (due > clock.Elapsed)
            {
                await Task.Delay(due - clock.Elapsed);
            }

            ids.Add((await TaskLedger.EnqueueAsync(db, "latency", Plan(), null, DateTimeOffset.UtcNow, CancellationToken.None)).Value!.Id);
        }
    }

    Console.WriteLine($"latency phase: {total} jobs at {rate} jobs/s ({rate * 5} tasks/s) over {clock.Elapsed.TotalSeconds:0.0} s");
    await WaitFinishedAsync(provider, "latency", total);
    return ids;
}

static async Task WaitFinishedAsync(IServiceProvider provider, string cluster, int count)
{
    var deadline = Stopwatch.StartNew();
    while (true)
    {
        await using (var scope = provider.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<PitrixDbContext>();
            if (await db.Jobs.CountAsync(j => j.ClusterId == cluster && j.FinishedAt != null) >= count)
            {
                return;
            }
        }

        if (deadline.Elapsed > TimeSpan.FromMinutes(10))
        {
            throw new TimeoutException($"The {cluster} jobs did not finish in 10 minutes.");
        }

        await Task.Delay(100);
    }
}

static void Report(string label, List<double> latencies)
{
    latencies.Sort();
    double At(double q) => latencies[Math.Min(latencies.Count - 1, (int)Math.Ceiling(q * latencies.Count) - 1)];
    Console.WriteLine($"scheduling latency, {label}: n={latencies.Count} p50={At(0.50):0.0} ms p99={At(0.99):0.0} ms max={latencies[^1]:0.0} ms");
}

static async Task<Process> StartWorkerAsync(string provider, string connectionString, string instanceId, string concurrency)
{
    var output = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
    var root = output.Parent!.Parent!.Parent!.Parent!.Parent!;
    var path = Path.Combine(root.FullName, "tests", "Pitrix.Engine.Worker", "bin", output.Parent!.Name, output.Name, "Pitrix.Engine.Worker.dll");
    var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardInput = true, UseShellExecute = false };
    start.ArgumentList.Add(path);
    start.ArgumentList.Add($"--Database:Provider={provider}");
    start.ArgumentList.Add($"--Database:ConnectionString={connectionString}");
    start.ArgumentList.Add($"--Engine:InstanceId={instanceId}");
    start.ArgumentList.Add($"--Engine:MaxConcurrentTasks={concurrency}");
    var process = Process.Start(start) ?? throw new InvalidOperationException("dotnet did not start.");
    while (await process.StandardOutput.ReadLineAsync() is { } line && line != "ready")
    {
        Console.WriteLine($"{instanceId}: {line}");
    }

    return process;
}

string Arg(string name, string fallback)
{
    var index = Array.IndexOf(args, name);
    return index >= 0 && index + 1 < args.Length ? args[index + 1] : fallback;
}
