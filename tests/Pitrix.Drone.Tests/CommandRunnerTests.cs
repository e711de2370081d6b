using System.Diagnostics;

namespace Pitrix.Drone.Tests;

public sealed class CommandRunnerTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private CommandRunner NewRunner(int tailBytes = 64 * 1024) =>
        new(new CommandRunnerOptions { DataDirectory = _dir.File("data"), TailBytes = tailBytes, DefaultTimeout = TimeSpan.FromSeconds(30) });

    [Fact]
    public async Task RunAsync_Script_ReceivesArgvAndReportsExitCodeAndOutput()
    {
        var script = _dir.Script("args.sh", "for a in \"$@\"; do echo \"[$a]\"; done; echo oops >&2; exit 3");
        await using var runner = NewRunner();

        var result = await runner.RunAsync(new CommandRequest { TaskId = "t-1", Command = $"{script} --fast 'two words' \"x y\"" });

        Assert.Equal(CommandStatus.Failed, result.Status);
        Assert.Equal(3, result.ExitCode);
        Assert.Equal("[--fast]\n[two words]\n[x y]\n", result.StdoutTail);
        Assert.Equal("oops\n", result.StderrTail);
        Assert.False(result.IsReplay);
        Assert.True(result.Duration > TimeSpan.Zero);
    }

    [Fact]
    public async Task RunAsync_ValueWithCommandSubstitution_ReachesScriptLiterallyThroughTheEnvironment()
    {
        var script = _dir.Script("env.sh", "printf '%s' \"$ZK_NAME\"");
        var workDir = _dir.File("work");
        Directory.CreateDirectory(workDir);
        await using var runner = NewRunner();

        var result = await runner.RunAsync(new CommandRequest
        {
            TaskId = "t-env",
            Command = script,
            WorkingDirectory = workDir,
            Environment = new Dictionary<string, string> { ["ZK_NAME"] = "$(touch pwned-marker)`touch pwned-marker2`; touch pwned-marker3" },
        });

        Assert.Equal(CommandStatus.Succeeded, result.Status);
        Assert.Equal("$(touch pwned-marker)`touch pwned-marker2`; touch pwned-marker3", result.StdoutTail);
        Assert.Empty(Directory.GetFiles(workDir));
        Assert.Empty(Directory.GetFiles(_dir.Path, "pwned*", SearchOption.AllDirectories));
    }

    [Fact]
    public async Task RunAsync_CommandWithShellSyntax_IsRejectedWithoutRunning()
    {
        var marker = _dir.File("ran");
        await using var runner = NewRunner();

        var result = await runner.RunAsync(new CommandRequest { TaskId = "t-bad", Command = $"/usr/bin/touch {marker}; reboot" });

        Assert.Equal(CommandStatus.Rejected, result.Status);
        Assert.Contains("';'", result.Error, StringComparison.Ordinal);
        Assert.False(File.Exists(marker));
    }

    [Fact]
    public async Task RunAsync_MissingExecutable_IsRejected()
    {
        await using var runner = NewRunner();

        var result = await runner.RunAsync(new CommandRequest { TaskId = "t-missing", Command = _dir.File("no-such-script") });

        Assert.Equal(CommandStatus.Rejected, result.Status);
        Assert.Null(result.ExitCode);
    }

    [Fact]
    public async Task RunAsync_Timeout_KillsTheWholeProcessTree()
    {
        var pids = _dir.File("pids");
        var script = _dir.Script("slow.sh", $"sleep 60 & echo $! > {pids}.bg; echo $$ > {pids}.sh; sleep 60");
        await using var runner = NewRunner();

        var result = await runner.RunAsync(new CommandRequest { TaskId = "t-slow", Command = script, Timeout = TimeSpan.FromMilliseconds(700) });

        Assert.Equal(CommandStatus.TimedOut, result.Status);
        Assert.Null(result.ExitCode);
        Assert.True(result.Duration < TimeSpan.FromSeconds(20), $"took {result.Duration}");
        foreach (var file in new[] { pids + ".bg", pids + ".sh" })
        {
            var pid = int.Parse((await File.ReadAllTextAsync(file)).Trim(), System.Globalization.CultureInfo.InvariantCulture);
            Assert.True(await HasExitedAsync(pid), $"process {pid} from {Path.GetFileName(file)} is still alive");
        }
    }

    [Fact]
    public async Task RunAsync_LongOutput_KeepsOnlyTheBoundedTail()
    {
        // 5000 numbered lines are far more than the 1 KiB tail kept.
        var script = _dir.Script("loud.sh", "i=0; while [ $i -lt 5000 ]; do echo \"line $i\"; i=$((i+1)); done");
        await using var runner = NewRunner(tailBytes: 1024);

        var result = await runner.RunAsync(new CommandRequest { TaskId = "t-loud", Command = script });

        Assert.Equal(CommandStatus.Succeeded, result.Status);
        Assert.True(result.StdoutTruncated);
        Assert.True(result.StdoutTail.Length <= 1024);
        Assert.EndsWith("line 4999\n", result.StdoutTail, StringComparison.Ordinal);
        Assert.DoesNotContain("line 0\n", result.StdoutTail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunAsync_SeveralCommands_RunOneAtATimeInArrivalOrder()
    {
        var log = _dir.File("log");
        // Each command notes its start, lingers, then notes its end: overlap would interleave the lines.
        var script = _dir.Script("step.sh", $"echo \"start $1\" >> {log}; sleep 0.1; echo \"end $1\" >> {log}");
        await using var runner = NewRunner();

        var tasks = Enumerable.Range(1, 5)
            .Select(i => runner.RunAsync(new CommandRequest { TaskId = $"t-{i}", Command = $"{script} {i}" }))
            .ToList();
        var results = await Task.WhenAll(tasks);

        Assert.All(results, r => Assert.Equal(CommandStatus.Succeeded, r.Status));
        var expected = Enumerable.Range(1, 5).SelectMany(i => new[] { $"start {i}", $"end {i}" });
        Assert.Equal(expected, await File.ReadAllLinesAsync(log));
    }

    [Fact]
    public async Task RunAsync_SameTaskIdTwice_RunsOnceAndReplaysTheResult()
    {
        var counter = _dir.File("count");
        var script = _dir.Script("once.sh", $"echo x >> {counter}; sleep 0.2; echo done");
        await using var runner = NewRunner();
        var request = new CommandRequest { TaskId = "t-once", Command = script };

        var first = runner.RunAsync(request);
        var whileRunning = runner.RunAsync(request);
        var results = await Task.WhenAll(first, whileRunning);
        var afterwards = await runner.RunAsync(request);

        Assert.Single(await File.ReadAllLinesAsync(counter));
        Assert.False(results[0].IsReplay);
        Assert.True(results[1].IsReplay);
        Assert.True(afterwards.IsReplay);
        Assert.Equal("done\n", afterwards.StdoutTail);
        Assert.Equal(results[0].StartedAt, afterwards.StartedAt);
    }

    [Fact]
    public async Task RunAsync_SameTaskIdAfterRestart_ReturnsThePersistedResultWithoutRunning()
    {
        var counter = _dir.File("count");
        var script = _dir.Script("once.sh", $"echo x >> {counter}; echo out; exit 4");
        var request = new CommandRequest { TaskId = "task-42", Command = script };
        CommandResult original;
        await using (var runner = NewRunner())
        {
            original = await runner.RunAsync(request);
        }

        await using var restarted = NewRunner();
        var again = await restarted.RunAsync(request);

        Assert.Single(await File.ReadAllLinesAsync(counter));
        Assert.True(again.IsReplay);
        Assert.Equal(CommandStatus.Failed, again.Status);
        Assert.Equal(4, again.ExitCode);
        Assert.Equal("out\n", again.StdoutTail);
        Assert.Equal(original.StartedAt, again.StartedAt);
        Assert.Equal(original.Duration, again.Duration);
        Assert.Equal(original with { IsReplay = true }, restarted.GetResult("task-42")! with { IsReplay = true });
    }

    [Fact]
    public async Task RunAsync_DroneCrashedMidCommand_ReportsInterruptedInsteadOfRunningAgain()
    {
        var counter = _dir.File("count");
        var started = _dir.File("started");
        var script = _dir.Script("long.sh", $"echo x >> {counter}; touch {started}; sleep 60");
        var request = new CommandRequest { TaskId = "t-crash", Command = script };
        var runner = NewRunner();
        var running = runner.RunAsync(request);
        await WaitForFileAsync(started);

        // A crash leaves the data directory as it is mid-run; a copy of it is what the restarted drone finds.
        var crashedData = _dir.File("crashed");
        Directory.CreateDirectory(Path.Combine(crashedData, "commands"));
        foreach (var file in Directory.GetFiles(_dir.File("data/commands")))
        {
            File.Copy(file, Path.Combine(crashedData, "commands", Path.GetFileName(file)));
        }

        await runner.DisposeAsync();
        await using var restarted = new CommandRunner(new CommandRunnerOptions { DataDirectory = crashedData });
        var result = await restarted.RunAsync(request);

        Assert.Equal(CommandStatus.Cancelled, (await running).Status);
        Assert.Equal(CommandStatus.Interrupted, result.Status);
        Assert.True(result.IsReplay);
        Assert.Single(await File.ReadAllLinesAsync(counter));
    }

    private static async Task WaitForFileAsync(string path)
    {
        var deadline = Stopwatch.StartNew();
        while (!File.Exists(path))
        {
            Assert.True(deadline.Elapsed < TimeSpan.FromSeconds(20), $"{path} never appeared");
            await Task.Delay(20);
        }
    }

    private static async Task<bool> HasExitedAsync(int pid)
    {
        // A killed child may linger briefly as a zombie until its parent is reaped; zombies count as exited.
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < TimeSpan.FromSeconds(10))
        {
            var status = $"/proc/{pid}/status";
            if (!File.Exists(status) || (await File.ReadAllLinesAsync(status)).Any(l => l.StartsWith("State:", StringComparison.Ordinal) && l.Contains('Z', StringComparison.Ordinal)))
            {
                return true;
            }

            await Task.Delay(50);
        }

        return false;
    }
}
