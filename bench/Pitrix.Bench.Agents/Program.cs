using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using Pitrix.Bench.Agents;
using Pitrix.Core.Agents;
using Pitrix.Core.Cloud;
using Pitrix.Providers.Local;
using Pitrix.Testing;
using static Pitrix.Bench.Agents.Stats;

// The VM agent network with real processes: a pitrix-server in this process (API, engine, Pilot), the local
// runtime starting one pitrix-frontgate per runtime and one pitrix-drone per node. Parts (--parts):
//   render     a --nodes cluster of the bench package; --renders metadata changes, each timed until every node's
//              rendered file holds the new value.
//   command    /bin/true through Pilot -> Frontgate -> Drone on one node (--commands sequential samples) and on
//              every node at once (--rounds rounds); the bare cost of starting /bin/true from .NET beside it.
//   zookeeper  POST /clusters to a 3-node ZooKeeper cluster active, and to its quorum answering srvr (--zk-runs).
//   capacity   clusters of --sizes nodes on one frontgate: create time, frontgate and drone memory, idle CPU,
//              pings after --idle seconds, re-render latency over --capacity-renders changes.
// Every cluster is ceased and every frontgate terminated at the end; leftover processes are reported.
var parts = Arg("--parts", "render,command,zookeeper,capacity").Split(',', StringSplitOptions.RemoveEmptyEntries).ToHashSet(StringComparer.Ordinal);
var nodeCount = IntArg("--nodes", 20);
var renderCount = IntArg("--renders", 100);
var commandCount = IntArg("--commands", 200);
var roundCount = IntArg("--rounds", 20);
var zkRuns = IntArg("--zk-runs", 3);
var sizes = Arg("--sizes", "50,200").Split(',', StringSplitOptions.RemoveEmptyEntries).Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToList();
var capacityRenders = IntArg("--capacity-renders", 10);
var idleSeconds = IntArg("--idle", 30);
var minAvailableGib = double.Parse(Arg("--min-available-gib", "2"), CultureInfo.InvariantCulture);
var createTimeout = TimeSpan.FromMinutes(IntArg("--create-timeout-minutes", 12));

var work = Directory.CreateTempSubdirectory("pitrix-bench-agents-").FullName;
var clusters = new List<string>();
var runtimes = new List<(string Id, string Zone)>();
TestServer? server = null;
ApiSession? admin = null;
var exitCode = 0;
try
{
    // Pooled SQLite connections, as pitrix-server uses them (the test fixture turns pooling off).
    server = await TestServer.StartAsync(
        "sqlite",
        "--Logging:LogLevel:Default=Error",
        "--Logging:LogLevel:Microsoft.Hosting.Lifetime=Error",
        $"--connection-string=Data Source={Path.Combine(work, "pitrix.db")}",
        "--Providers:Local:StopGracePeriod=00:00:05");
    var agents = server.Services.GetRequiredService<IAgentNetwork>();
    admin = await server.LoginAdminAsync();
    var repo = await FakeCloudWorld.PublicRepoAsync(admin);
    Console.WriteLine(Invariant($"cores={Environment.ProcessorCount} data={server.DataDirectory} load={Procs.LoadAverage()} available={Procs.MemAvailableGib():0.0} GiB"));

    string? benchVersion = null;
    async Task<string> BenchVersionAsync() => benchVersion ??= await BenchWorld.ReleaseBenchPackageAsync(admin, repo);

    async Task<(string Id, string Zone)> NewRuntimeAsync()
    {
        var runtime = await BenchWorld.LocalRuntimeAsync(admin);
        runtimes.Add(runtime);
        return runtime;
    }

    async Task<(BenchCluster Cluster, double Seconds)> CreateBenchClusterAsync((string Id, string Zone) runtime, int count, string value, Func<bool>? abort = null)
    {
        var version = await BenchVersionAsync();
        var started = Stopwatch.GetTimestamp();
        var (clusterId, jobId) = await BenchWorld.CreateAsync(admin, version, runtime.Id, BenchWorld.BenchValues(count, value));
        clusters.Add(clusterId);
        await BenchWorld.WaitAsync(admin, clusterId, jobId, createTimeout, abort);
        var seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
        var cluster = await BenchWorld.DescribeAsync(admin, clusterId, runtime.Id, runtime.Zone);
        BenchWorld.Expect(cluster.Nodes.Count == count, $"{cluster.Nodes.Count} of {count} nodes running");
        return (cluster, seconds);
    }

    async Task<double> CeaseTimedAsync(string clusterId)
    {
        var started = Stopwatch.GetTimestamp();
        await BenchWorld.CeaseAsync(admin, clusterId, TimeSpan.FromMinutes(10));
        clusters.Remove(clusterId);
        return Stopwatch.GetElapsedTime(started).TotalSeconds;
    }

    BenchCluster? shared = null;
    if (parts.Contains("render") || parts.Contains("command"))
    {
        var runtime = await NewRuntimeAsync();
        var load = Procs.LoadAverage();
        var (cluster, seconds) = await CreateBenchClusterAsync(runtime, nodeCount, "v0");
        shared = cluster;
        Console.WriteLine(Invariant($"[create] {nodeCount} nodes (frontgate included) active in {seconds:0.0} s; load {load} -> {Procs.LoadAverage()}"));
    }

    if (parts.Contains("render"))
    {
        var cluster = shared!;
        var frontgateId = $"fg-{cluster.RuntimeId}";
        var files = RenderProbe.Files(server.DataDirectory, cluster);
        await RenderProbe.WaitForAsync(files, "v0", TimeSpan.FromMinutes(1));
        for (var i = 0; i < 5; i++)
        {
            await RenderProbe.ChangeAsync(agents, frontgateId, cluster, files, $"warmup-{i}", TimeSpan.FromMilliseconds(2), TimeSpan.FromSeconds(30));
        }

        var loadBefore = Procs.LoadAverage();
        var samples = new List<RenderSample>();
        for (var i = 0; i < renderCount; i++)
        {
            samples.Add(await RenderProbe.ChangeAsync(agents, frontgateId, cluster, files, Invariant($"value-{i:D4}"), TimeSpan.FromMilliseconds(2), TimeSpan.FromSeconds(30)));
            await Task.Delay(50);
        }

        Console.WriteLine($"[render] {cluster.Nodes.Count} nodes, {renderCount} changes, poll 2 ms; load {loadBefore} -> {Procs.LoadAverage()}");
        Console.WriteLine($"[render]   all nodes seen     {Summary([.. samples.Select(s => s.AllSeenMs)])}");
        Console.WriteLine($"[render]   all nodes written  {Summary([.. samples.Select(s => s.AllWrittenMs)])}");
        Console.WriteLine($"[render]   first node seen    {Summary([.. samples.Select(s => s.FirstSeenMs)])}");
        Console.WriteLine($"[render]   put (Pilot ack)    {Summary([.. samples.Select(s => s.PutMs)])}");
    }

    if (parts.Contains("command"))
    {
        var cluster = shared!;
        var frontgateId = $"fg-{cluster.RuntimeId}";

        async Task<(double TotalMs, double AcceptMs, double DroneMs)> CommandAsync(BenchNode node)
        {
            var taskId = "bench-" + Guid.NewGuid().ToString("N");
            var started = Stopwatch.GetTimestamp();
            var error = await agents.RunCommandAsync(frontgateId, new Pitrix.Core.Agents.AgentCommand(node.Id, taskId, "/bin/true", TimeSpan.FromSeconds(30)), CancellationToken.None);
            var acceptMs = Milliseconds(started);
            BenchWorld.Expect(error is null, $"run: {error?.Code} {error?.Message}");
            var result = await agents.WaitForCommandResultAsync(node.Id, taskId, TimeSpan.FromSeconds(30), CancellationToken.None);
            var totalMs = Milliseconds(started);
            BenchWorld.Expect(result is { Succeeded: true }, $"result of {taskId}: {result}");
            return (totalMs, acceptMs, result!.Duration.TotalMilliseconds);
        }

        for (var i = 0; i < 20; i++)
        {
            await CommandAsync(cluster.Nodes[0]);
        }

        var loadBefore = Procs.LoadAverage();
        var sequential = new List<(double TotalMs, double AcceptMs, double DroneMs)>();
        for (var i = 0; i < commandCount; i++)
        {
            sequential.Add(await CommandAsync(cluster.Nodes[0]));
        }

        Console.WriteLine($"[command] sequential on one node; load {loadBefore} -> {Procs.LoadAverage()}");
        Console.WriteLine($"[command]   round trip         {Summary([.. sequential.Select(s => s.TotalMs)])}");
        Console.WriteLine($"[command]   accepted (Run)     {Summary([.. sequential.Select(s => s.AcceptMs)])}");
        Console.WriteLine($"[command]   drone's run time   {Summary([.. sequential.Select(s => s.DroneMs)])}");

        loadBefore = Procs.LoadAverage();
        var parallel = new List<double>();
        var roundTimes = new List<double>();
        for (var round = 0; round < roundCount; round++)
        {
            var started = Stopwatch.GetTimestamp();
            var results = await Task.WhenAll(cluster.Nodes.Select(CommandAsync));
            roundTimes.Add(Milliseconds(started));
            parallel.AddRange(results.Select(r => r.TotalMs));
        }

        Console.WriteLine($"[command] {cluster.Nodes.Count} nodes at once, {roundCount} rounds; load {loadBefore} -> {Procs.LoadAverage()}");
        Console.WriteLine($"[command]   per command        {Summary(parallel)}");
        Console.WriteLine($"[command]   per round          {Summary(roundTimes)}");

        // The drone starts a process per command: the same start from .NET here, with stdout and stderr redirected as the drone does.
        async Task<double> BareStartAsync()
        {
            var started = Stopwatch.GetTimestamp();
            using var process = Process.Start(new ProcessStartInfo("/bin/true") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false })!;
            var output = process.StandardOutput.ReadToEndAsync();
            var error = process.StandardError.ReadToEndAsync();
            await process.WaitForExitAsync();
            await output;
            await error;
            return Milliseconds(started);
        }

        for (var i = 0; i < 20; i++)
        {
            await BareStartAsync();
        }

        loadBefore = Procs.LoadAverage();
        var bare = new List<double>();
        for (var i = 0; i < commandCount; i++)
        {
            bare.Add(await BareStartAsync());
        }

        Console.WriteLine($"[command] bare Process.Start(/bin/true) + exit in this process; load {loadBefore} -> {Procs.LoadAverage()}");
        Console.WriteLine($"[command]   start to exit      {Summary(bare)}");
    }

    if (shared is not null)
    {
        Console.WriteLine(Invariant($"[cease] {shared.Nodes.Count} nodes ceased in {await CeaseTimedAsync(shared.Id):0.0} s"));
    }

    if (parts.Contains("zookeeper"))
    {
        var runtime = await NewRuntimeAsync();
        var version = await FakeCloudWorld.ReleaseSampleAsync(admin, repo, ServerFixture.Unique("zk"), "1.0.0");
        for (var run = 1; run <= zkRuns; run++)
        {
            var loadBefore = Procs.LoadAverage();
            var started = Stopwatch.GetTimestamp();
            var (clusterId, jobId) = await BenchWorld.CreateAsync(admin, version, runtime.Id, BenchWorld.ZooKeeperValues(3));
            clusters.Add(clusterId);
            await BenchWorld.WaitAsync(admin, clusterId, jobId, createTimeout);
            var active = Stopwatch.GetElapsedTime(started).TotalSeconds;
            var cluster = await BenchWorld.DescribeAsync(admin, clusterId, runtime.Id, runtime.Zone);
            await BenchWorld.WaitForQuorumAsync(cluster.Nodes, TimeSpan.FromMinutes(3));
            var quorum = Stopwatch.GetElapsedTime(started).TotalSeconds;
            var loadAfter = Procs.LoadAverage();
            var ceased = await CeaseTimedAsync(clusterId);
            var left = Procs.ByEnvironment(cluster.Nodes.Select(n => $"{Procs.InstanceMarker}={n.InstanceId}")).Sum(p => p.Value.Count);
            Console.WriteLine(Invariant($"[zookeeper] run {run}{(run == 1 ? " (frontgate started too)" : "")}: active {active:0.0} s, quorum (srvr) {quorum:0.0} s, ceased in {ceased:0.0} s, processes left {left}; load {loadBefore} -> {loadAfter}"));
        }
    }

    if (parts.Contains("capacity"))
    {
        var runtime = await NewRuntimeAsync();
        var frontgateId = $"fg-{runtime.Id}";
        var driver = server.Services.GetRequiredService<LocalRuntimeProvider>().OpenDriver(new CloudTarget(runtime.Id, runtime.Zone, null, null));
        foreach (var size in sizes)
        {
            var available = Procs.MemAvailableGib();
            var loadBefore = Procs.LoadAverage();
            Console.WriteLine(Invariant($"[capacity] {size} nodes: starting; load {loadBefore}, available {available:0.0} GiB"));

            // Sampled every second while the cluster is created: the lowest available memory and the frontgate's peak RSS.
            var lowestAvailable = available;
            long frontgatePeakKib = 0;
            using var stopSampling = new CancellationTokenSource();
            var sampler = Task.Run(async () =>
            {
                while (!stopSampling.IsCancellationRequested)
                {
                    lowestAvailable = Math.Min(lowestAvailable, Procs.MemAvailableGib());
                    if (await FrontgatePidAsync(driver, runtime.Id) is { } fg && Procs.Sample(fg) is { } sample)
                    {
                        frontgatePeakKib = Math.Max(frontgatePeakKib, sample.RssKib);
                    }

                    await Task.Delay(1000);
                }
            });

            BenchCluster cluster;
            double createSeconds;
            try
            {
                (cluster, createSeconds) = await CreateBenchClusterAsync(runtime, size, "c0", () => lowestAvailable < minAvailableGib);
            }
            catch (Exception ex) when (ex is InvalidOperationException or TimeoutException)
            {
                await stopSampling.CancelAsync();
                await sampler;
                Console.WriteLine(Invariant($"[capacity] {size} nodes: not measured: {ex.Message} (lowest available {lowestAvailable:0.0} GiB, load {Procs.LoadAverage()})"));
                foreach (var id in clusters.ToList())
                {
                    Console.WriteLine(Invariant($"[capacity]   cleanup: ceased in {await CeaseTimedAsync(id):0.0} s"));
                }

                break;
            }

            await stopSampling.CancelAsync();
            await sampler;
            var loadAfterCreate = Procs.LoadAverage();
            var fgPid = await FrontgatePidAsync(driver, runtime.Id) ?? throw new InvalidOperationException("No frontgate process.");
            var drones = DronePids(cluster);
            var fgBefore = Procs.Sample(fgPid)!;
            var droneBefore = drones.Select(Procs.Sample).OfType<ProcSample>().ToList();
            Console.WriteLine(Invariant($"[capacity] {size} nodes active in {createSeconds:0.0} s (frontgate {(clusters.Count == 1 && size == sizes[0] ? "started in it" : "already running")}); load {loadBefore} -> {loadAfterCreate}; lowest available {lowestAvailable:0.0} GiB"));
            Console.WriteLine(Invariant($"[capacity]   frontgate pid {fgPid}: RSS {fgBefore.RssKib / 1024.0:0.0} MiB (anon {fgBefore.AnonKib / 1024.0:0.0}, PSS {fgBefore.PssKib / 1024.0:0.0}); peak RSS during create {frontgatePeakKib / 1024.0:0.0} MiB"));
            Console.WriteLine(Invariant($"[capacity]   drones: {droneBefore.Count} processes, mean RSS {droneBefore.Average(d => d.RssKib) / 1024.0:0.0} MiB (anon {droneBefore.Average(d => d.AnonKib) / 1024.0:0.0}, PSS {droneBefore.Average(d => d.PssKib) / 1024.0:0.0}), total PSS {droneBefore.Sum(d => d.PssKib) / 1024.0 / 1024.0:0.00} GiB"));

            // Idle: heartbeats only. CPU used by the frontgate and the drones over the idle period.
            var idleLoad = Procs.LoadAverage();
            await Task.Delay(TimeSpan.FromSeconds(idleSeconds));
            var fgAfterIdle = Procs.Sample(fgPid)!;
            var dronesAfterIdle = drones.Select(Procs.Sample).OfType<ProcSample>().ToDictionary(d => d.Pid);
            var droneTicks = droneBefore.Where(d => dronesAfterIdle.ContainsKey(d.Pid)).Sum(d => dronesAfterIdle[d.Pid].CpuTicks - d.CpuTicks);
            Console.WriteLine(Invariant($"[capacity]   idle {idleSeconds} s (load {idleLoad} -> {Procs.LoadAverage()}): frontgate CPU {(fgAfterIdle.CpuTicks - fgBefore.CpuTicks) * 100.0 / Procs.TicksPerSecond / idleSeconds:0.00}% of a core, drones {droneTicks * 100.0 / Procs.TicksPerSecond / idleSeconds / Math.Max(1, dronesAfterIdle.Count):0.000}% each ({droneTicks * 100.0 / Procs.TicksPerSecond / idleSeconds:0.0}% in all); {dronesAfterIdle.Count} drones alive"));

            using var gate = new SemaphoreSlim(16);
            var pings = await Task.WhenAll(cluster.Nodes.Select(async node =>
            {
                await gate.WaitAsync();
                try
                {
                    var started = Stopwatch.GetTimestamp();
                    var pong = await agents.PingAsync(frontgateId, node.Id, CancellationToken.None);
                    return (Ok: pong.IsSuccess, Ms: Milliseconds(started));
                }
                finally
                {
                    gate.Release();
                }
            }));
            Console.WriteLine($"[capacity]   ping after idle: {pings.Count(p => p.Ok)} of {pings.Length} nodes answered; {Summary([.. pings.Where(p => p.Ok).Select(p => p.Ms)])} (16 at a time)");

            var files = RenderProbe.Files(server.DataDirectory, cluster);
            await RenderProbe.WaitForAsync(files, "c0", TimeSpan.FromMinutes(1));
            var poll = TimeSpan.FromMilliseconds(size > 50 ? 5 : 2);
            var renderLoad = Procs.LoadAverage();
            var renders = new List<RenderSample>();
            for (var i = 0; i < capacityRenders; i++)
            {
                renders.Add(await RenderProbe.ChangeAsync(agents, frontgateId, cluster, files, Invariant($"c{size}-{i:D3}"), poll, TimeSpan.FromSeconds(60)));
                await Task.Delay(200);
            }

            var fgAfter = Procs.Sample(fgPid)!;
            Console.WriteLine(Invariant($"[capacity]   re-render, poll {poll.TotalMilliseconds} ms (load {renderLoad} -> {Procs.LoadAverage()}): all seen {Summary([.. renders.Select(r => r.AllSeenMs)])}; all written {Summary([.. renders.Select(r => r.AllWrittenMs)])}"));
            Console.WriteLine(Invariant($"[capacity]   frontgate RSS after the changes {fgAfter.RssKib / 1024.0:0.0} MiB"));
            Console.WriteLine(Invariant($"[capacity]   {size} nodes ceased in {await CeaseTimedAsync(cluster.Id):0.0} s"));
        }
    }
}
catch (Exception ex)
{
    Console.Error.WriteLine($"benchmark failed: {ex}");
    exitCode = 1;
}
finally
{
    if (server is not null && admin is not null)
    {
        foreach (var clusterId in clusters.ToList())
        {
            try
            {
                await BenchWorld.CeaseAsync(admin, clusterId, TimeSpan.FromMinutes(10));
            }
            catch (Exception ex) when (ex is InvalidOperationException or TimeoutException or HttpRequestException)
            {
                Console.Error.WriteLine($"cease {clusterId}: {ex.Message}");
            }
        }

        // A runtime's frontgate outlives its clusters (one per runtime network); the benchmark started them, so it ends them.
        foreach (var (id, zone) in runtimes)
        {
            var driver = server.Services.GetRequiredService<LocalRuntimeProvider>().OpenDriver(new CloudTarget(id, zone, null, null));
            if (await driver.FindInstanceAsync($"frontgate/{id}", CancellationToken.None) is { } frontgate)
            {
                await driver.TerminateInstanceAsync(frontgate.Id, CancellationToken.None);
            }
        }
    }

    admin?.Dispose();
    var dataDirectory = server?.DataDirectory;
    if (server is not null)
    {
        await server.DisposeAsync();
    }

    // Anything still running that names the benchmark's data directory was started by it (through the local runtime).
    var left = dataDirectory is null ? [] : Procs.Mentioning(dataDirectory);
    Console.WriteLine(left.Count == 0 ? "leftover processes: none" : $"leftover processes: {string.Join("; ", left.Select(p => $"{p} {Procs.CommandLine(p)}"))}");
    foreach (var pid in left)
    {
        try
        {
            using var process = Process.GetProcessById(pid);
            process.Kill(entireProcessTree: true);
        }
        catch (ArgumentException)
        {
            // Already gone.
        }
    }

    exitCode = left.Count == 0 ? exitCode : 2;
    Directory.Delete(work, recursive: true);
}

return exitCode;

static async Task<int?> FrontgatePidAsync(ICloudDriver driver, string runtimeId)
{
    if (await driver.FindInstanceAsync($"frontgate/{runtimeId}", CancellationToken.None) is not { } instance)
    {
        return null;
    }

    var marker = $"{Procs.InstanceMarker}={instance.Id}";
    return Procs.ByEnvironment([marker])[marker].FirstOrDefault(p => Procs.CommandLine(p).Contains("pitrix-frontgate", StringComparison.Ordinal)) is var pid and > 0 ? pid : null;
}

static List<int> DronePids(BenchCluster cluster) =>
    Procs.ByEnvironment(cluster.Nodes.Select(n => $"{Procs.InstanceMarker}={n.InstanceId}"))
        .SelectMany(p => p.Value)
        .Where(p => Procs.CommandLine(p).Contains("pitrix-drone", StringComparison.Ordinal))
        .ToList();

string Arg(string name, string fallback)
{
    var index = Array.IndexOf(args, name);
    return index >= 0 && index + 1 < args.Length ? args[index + 1] : fallback;
}

int IntArg(string name, int fallback) => int.Parse(Arg(name, fallback.ToString(CultureInfo.InvariantCulture)), CultureInfo.InvariantCulture);
