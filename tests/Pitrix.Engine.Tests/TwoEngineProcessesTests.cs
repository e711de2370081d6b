using System.Diagnostics;
using Microsoft.EntityFrameworkCore;
using Pitrix.Core.Engine;
using Xunit;

namespace Pitrix.Engine.Tests;

/// <summary>
/// Engine worker processes (tests/Pitrix.Engine.Worker) on one PostgreSQL: they share the work without
/// running a task twice, and NOTIFY wakes a process for work another one stored.
/// </summary>
public sealed class TwoEngineProcessesTests(PostgresLedgerDatabase database) : IClassFixture<PostgresLedgerDatabase>
{
    [Fact]
    public async Task TwoProcesses_Share200Jobs_EachTaskRunOnce()
    {
        await using (var db = database.Open())
        {
            for (var i = 0; i < 200; i++)
            {
                var plan = new TaskPlan("create",
                [
                    new PlannedTask("a", NoopTaskHandler.KindName, []),
                    new PlannedTask("b", NoopTaskHandler.KindName, ["a"]),
                    new PlannedTask("c", NoopTaskHandler.KindName, ["a"]),
                    new PlannedTask("d", NoopTaskHandler.KindName, ["b", "c"]),
                    new PlannedTask("e", NoopTaskHandler.KindName, ["d"]),
                ]);
                Assert.True((await TaskLedger.EnqueueAsync(db, $"cl-two-{i:D3}", plan, null, DateTimeOffset.UtcNow, CancellationToken.None)).IsSuccess);
            }
        }

        using var first = WorkerProcess.Start(database.ConnectionString, "worker-one");
        using var second = WorkerProcess.Start(database.ConnectionString, "worker-two");
        await using var check = database.Open();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(120);
        while (await check.Jobs.CountAsync(j => j.FinishedAt != null) < 200)
        {
            Assert.True(DateTime.UtcNow < deadline, $"Not finished in 120 s.\n{first.Output}\n{second.Output}");
            await Task.Delay(200);
        }

        Assert.Equal(200, await check.Jobs.CountAsync(j => j.Status == JobStatus.Succeeded));
        Assert.Equal(1000, await check.JobTasks.CountAsync(t => t.Status == JobTaskStatus.Succeeded && t.Attempts == 1));
        var attempts = await check.JobTaskAttempts.AsNoTracking().Select(a => new { a.TaskId, a.Worker, a.Outcome }).ToListAsync();
        Assert.Equal(1000, attempts.Count);
        Assert.Equal(1000, attempts.Select(a => a.TaskId).Distinct().Count());
        Assert.All(attempts, a => Assert.Equal("succeeded", a.Outcome));
        var byWorker = attempts.GroupBy(a => a.Worker).ToDictionary(g => g.Key, g => g.Count());
        Assert.True(byWorker.GetValueOrDefault("worker-one") > 0 && byWorker.GetValueOrDefault("worker-two") > 0, string.Join(", ", byWorker));
    }

    [Fact]
    public async Task Worker_IsWokenByNotify_ForAJobStoredByAnotherProcess()
    {
        // The worker polls only every 30 s, so finishing within seconds needs NOTIFY from this process's commits.
        using var worker = WorkerProcess.Start(database.ConnectionString, "worker-notified", "--Engine:PollInterval=00:00:30");
        await worker.Ready.Task.WaitAsync(TimeSpan.FromSeconds(60));
        await using var db = database.Open();

        // Wait until the worker's listener has subscribed (its LISTEN ran and the session idles), then store the job.
        var subscribed = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (await db.Database.SqlQueryRaw<int>(
            "SELECT COUNT(*)::int AS \"Value\" FROM pg_stat_activity WHERE application_name = 'pitrix-engine-listener' AND state = 'idle' AND query LIKE 'LISTEN%'").SingleAsync() == 0)
        {
            Assert.True(DateTime.UtcNow < subscribed, $"The worker's listener did not subscribe within 60 s.\n{worker.Output}");
            await Task.Delay(100);
        }
        var plan = new TaskPlan("chain", [new PlannedTask("a", NoopTaskHandler.KindName, []), new PlannedTask("b", NoopTaskHandler.KindName, ["a"])]);
        var job = (await TaskLedger.EnqueueAsync(db, "cl-notify", plan, null, DateTimeOffset.UtcNow, CancellationToken.None)).Value!;
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (!await db.Jobs.AnyAsync(j => j.Id == job.Id && j.FinishedAt != null))
        {
            Assert.True(DateTime.UtcNow < deadline, $"The worker did not wake within 10 s.\n{worker.Output}");
            await Task.Delay(50);
        }
    }

    /// <summary>A worker process this test started; disposing kills it (and only it).</summary>
    private sealed class WorkerProcess : IDisposable
    {
        private readonly Process _process;
        private readonly System.Text.StringBuilder _output = new();

        private WorkerProcess(Process process)
        {
            _process = process;
        }

        public TaskCompletionSource Ready { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public string Output
        {
            get
            {
                lock (_output)
                {
                    return _output.ToString();
                }
            }
        }

        public static WorkerProcess Start(string connectionString, string instanceId, params string[] extra)
        {
            var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true, UseShellExecute = false };
            start.ArgumentList.Add(WorkerPath());
            start.ArgumentList.Add("--Database:Provider=postgres");
            start.ArgumentList.Add($"--Database:ConnectionString={connectionString}");
            start.ArgumentList.Add($"--Engine:InstanceId={instanceId}");
            foreach (var argument in extra)
            {
                start.ArgumentList.Add(argument);
            }

            var worker = new WorkerProcess(Process.Start(start) ?? throw new InvalidOperationException("dotnet did not start."));
            worker._process.OutputDataReceived += (_, e) => worker.Append(e.Data, ready: e.Data == "ready");
            worker._process.ErrorDataReceived += (_, e) => worker.Append(e.Data, ready: false);
            worker._process.BeginOutputReadLine();
            worker._process.BeginErrorReadLine();
            return worker;
        }

        public void Dispose()
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                _process.WaitForExit(10_000);
            }

            _process.Dispose();
        }

        private void Append(string? line, bool ready)
        {
            if (line is null)
            {
                return;
            }

            lock (_output)
            {
                _output.AppendLine(line);
            }

            if (ready)
            {
                Ready.TrySetResult();
            }
        }

        /// <summary>tests/Pitrix.Engine.Worker's build output for the same configuration as this test assembly (the project reference builds it).</summary>
        private static string WorkerPath()
        {
            var output = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
            var configuration = output.Parent!;
            var tests = configuration.Parent!.Parent!.Parent!;
            var path = Path.Combine(tests.FullName, "Pitrix.Engine.Worker", "bin", configuration.Name, output.Name, "Pitrix.Engine.Worker.dll");
            return File.Exists(path) ? path : throw new FileNotFoundException($"Build tests/Pitrix.Engine.Worker first; looked for {path}.");
        }
    }
}
