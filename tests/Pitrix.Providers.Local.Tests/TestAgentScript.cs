namespace Pitrix.Providers.Local.Tests;

/// <summary>
/// A TEST AGENT SCRIPT standing in for <c>pitrix-drone</c> and <c>pitrix-frontgate</c> (the real agents are
/// tested in their own projects). Started by the local cloud, it records its arguments, its environment and
/// the symbolic links in its root under <c>{RecordDirectory}/{instance id}/</c>, starts a background
/// <c>sleep</c> that leaves its process tree (an app that daemonized itself), appends its pid to
/// <c>starts</c> (the last thing it writes) and then waits in a <c>sleep</c> of its own. When
/// <c>{RecordDirectory}/ignore-term</c> exists it ignores SIGTERM, and so does its child.
/// </summary>
internal sealed class TestAgentScript
{
    public TestAgentScript(string directory)
    {
        RecordDirectory = System.IO.Path.Combine(directory, "records");
        Directory.CreateDirectory(RecordDirectory);
        Path = System.IO.Path.Combine(directory, "test-agent.sh");
        File.WriteAllText(Path, $$"""
            #!/bin/sh
            # Test agent script: stands in for pitrix-drone / pitrix-frontgate in the local cloud's tests.
            records='{{RecordDirectory}}'
            [ -e "$records/ignore-term" ] && trap '' TERM
            record="$records/$PITRIX_LOCAL_INSTANCE"
            mkdir -p "$record"
            {
              for argument in "$@"; do printf 'arg=%s\n' "$argument"; done
              env | sort | sed 's/^/env=/'
              find "$PITRIX_ROOT" -type l | sed 's/^/link=/'
            } > "$record/start-$$.txt"
            ( sleep 1000 & echo $! > "$record/child-$$.pid" )
            echo "test agent $$ started"
            echo $$ >> "$record/starts"
            exec sleep 1000
            """.Replace("\r", "", StringComparison.Ordinal));
        File.SetUnixFileMode(Path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
    }

    public string Path { get; }

    public string RecordDirectory { get; }

    /// <summary>Makes every agent started from now on ignore SIGTERM, so that only SIGKILL ends it.</summary>
    public void IgnoreTerm() => File.WriteAllText(System.IO.Path.Combine(RecordDirectory, "ignore-term"), "");

    /// <summary>The pids of the agent's starts for this instance, in order.</summary>
    public IReadOnlyList<int> Starts(string instanceId)
    {
        var path = System.IO.Path.Combine(RecordDirectory, instanceId, "starts");
        return File.Exists(path) ? File.ReadAllLines(path).Where(l => l.Length > 0).Select(int.Parse).ToList() : [];
    }

    /// <summary>What the agent with this pid recorded: its <c>arg=</c>, <c>env=</c> and <c>link=</c> lines.</summary>
    public IReadOnlyList<string> Record(string instanceId, int agentPid) =>
        File.ReadAllLines(System.IO.Path.Combine(RecordDirectory, instanceId, $"start-{agentPid}.txt"));

    /// <summary>The pid of the daemonized child the agent with this pid started.</summary>
    public int Child(string instanceId, int agentPid) =>
        int.Parse(File.ReadAllText(System.IO.Path.Combine(RecordDirectory, instanceId, $"child-{agentPid}.pid")).Trim());

    /// <summary>Waits until the instance's agent has started <paramref name="count"/> times; returns the last start's pid.</summary>
    public async Task<int> WaitForStartsAsync(string instanceId, int count)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (Starts(instanceId).Count < count)
        {
            Assert.True(DateTime.UtcNow < deadline, $"The test agent of {instanceId} started {Starts(instanceId).Count} times, not {count}, within 30 s.");
            await Task.Delay(20);
        }

        return Starts(instanceId)[count - 1];
    }
}
