using System.Diagnostics;
using Google.Protobuf.WellKnownTypes;
using Pitrix.Agent.Protocol.V1;

namespace Pitrix.Drone.Tests;

/// <summary>The real drone in-process against a test frontgate over mutual TLS on 127.0.0.1.</summary>
public sealed class DroneAgentTests
{
    private const string ZooToml = """
        [template]
        src = "zoo.cfg.tmpl"
        dest = "/etc/zookeeper/conf/zoo.cfg"
        keys = ["/hosts", "/env"]
        mode = "0644"
        reload_cmd = "/opt/pitrix/app/scripts/reload.sh"
        """;

    private const string ZooTemplate =
        "dataDir={{getenv \"PITRIX_ROOT\"}}/var/lib/zookeeper\ntickTime={{getv \"/env/tick_time\"}}\n{{range $dir := lsdir \"/hosts/zk\"}}server.{{getv (printf \"/hosts/zk/%s/sid\" $dir)}}={{getv (printf \"/hosts/zk/%s/ip\" $dir)}}:2888:3888\n{{end}}";

    private static byte[] ZooKeeperApp() => Archives.Create(
        Archives.File("confd/conf.d/zoo.toml", ZooToml),
        Archives.File("confd/templates/zoo.cfg.tmpl", ZooTemplate),
        Archives.Script("scripts/reload.sh", "echo reloaded >> \"$PITRIX_ROOT/reloads\""));

    private static void SeedZooKeeperMetadata(TestMetadataStore metadata) => metadata.Put(
        ("env/tick_time", "2000"),
        ("hosts/zk/zk1/sid", "1"),
        ("hosts/zk/zk1/ip", "10.0.0.11"),
        ("hosts/zk/zk2/sid", "2"),
        ("hosts/zk/zk2/ip", "10.0.0.12"),
        ("host/ip", "10.0.0.12"));

    private static string ExpectedZooCfg(string root, string tickTime = "2000") =>
        $"dataDir={root}/var/lib/zookeeper\ntickTime={tickTime}\nserver.1=10.0.0.11:2888:3888\nserver.2=10.0.0.12:2888:3888\n";

    private static async Task<string> WaitForFileAsync(string path, string expected, double seconds = 10)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        string? content = null;
        while (DateTime.UtcNow < deadline)
        {
            content = File.Exists(path) ? await File.ReadAllTextAsync(path) : null;
            if (content == expected)
            {
                return content;
            }

            await Task.Delay(10);
        }

        Assert.Fail($"'{path}' did not become the expected content within {seconds} s; it holds: {content ?? "(missing)"}");
        return "";
    }

    private static int Lines(string path) => File.Exists(path) ? File.ReadAllLines(path).Length : 0;

    /// <summary>Waits for a file a script appends to to hold <paramref name="count"/> lines (a reload runs just after its file is written).</summary>
    private static async Task WaitForLinesAsync(string path, int count, double seconds = 10)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (Lines(path) < count && DateTime.UtcNow < deadline)
        {
            await Task.Delay(10);
        }

        Assert.Equal(count, Lines(path));
    }

    private static async Task StartWatchingAsync(DroneHarness node)
    {
        var response = await node.SendAsync(new FrontgateToDroneMessage { StartConfigWatch = new StartConfigWatchRequest { NodeId = DroneHarness.NodeId } });
        Assert.Equal(DroneResponse.ResultOneofCase.Ack, response.ResultCase);
    }

    [Fact]
    public async Task Enroll_ThroughFrontgateRelay_StoresCredentialAndReusesItAfterRestart()
    {
        await using var node = await DroneHarness.StartAsync();

        await node.ConnectedAsync();
        var credential = Path.Combine(node.DataDirectory, "node.pem");
        Assert.Equal(1, node.World.EnrollCalls);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(credential));
        Assert.Contains(node.World.Messages.All(), m => m.Hello is not null);

        // The join token is spent: the restarted drone can only connect with the stored certificate.
        await node.StopDroneAsync();
        await node.DisconnectedAsync();
        node.StartDrone();
        var drone = await node.ConnectedAsync();
        Assert.Equal(DroneResponse.ResultOneofCase.Pong, (await drone.SendAsync(new FrontgateToDroneMessage { Ping = new PingRequest() })).ResultCase);
        Assert.Equal(1, node.World.EnrollCalls);
    }

    [Fact]
    public async Task Renew_AtHalfLifetime_ReplacesTheStoredCertificateThroughTheFrontgate()
    {
        await using var node = await DroneHarness.StartAsync(certificateLifetime: TimeSpan.FromSeconds(4));
        await node.ConnectedAsync();
        var credential = Path.Combine(node.DataDirectory, "node.pem");
        var first = await File.ReadAllTextAsync(credential);

        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (node.World.RenewCalls == 0 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50);
        }

        Assert.True(node.World.RenewCalls >= 1, "the drone renewed its certificate at half its lifetime");
        await Task.Delay(200);
        Assert.NotEqual(first, await File.ReadAllTextAsync(credential));
        Assert.Equal(1, node.World.EnrollCalls);
    }

    [Fact]
    public async Task Enroll_FrontgateWithAnotherIdentity_IsRefusedBeforeAnyCall()
    {
        await using var node = await DroneHarness.StartAsync(startDrone: false);
        await node.StopFrontgateAsync();
        await using var impostor = await TestFrontgate.StartAsync(node.World, identityId: "fg-other");
        await node.IssueBootstrapAsync(impostor.Port);

        node.StartDrone();
        await Task.Delay(TimeSpan.FromSeconds(2));

        Assert.Equal(0, node.World.EnrollCalls);
        Assert.Empty(node.World.Drones);
        Assert.False(File.Exists(Path.Combine(node.DataDirectory, "node.pem")));
    }

    [Fact]
    public async Task Ping_AnswersPongUnderTheSameCorrelation()
    {
        await using var node = await DroneHarness.StartAsync();

        var response = await node.SendAsync(new FrontgateToDroneMessage { Ping = new PingRequest() });

        Assert.Equal(DroneResponse.ResultOneofCase.Pong, response.ResultCase);
        Assert.False(string.IsNullOrEmpty(response.Pong.Version));
    }

    [Fact]
    public async Task RunCommand_AppScriptUnderRoot_ReportsExitCodeTailsAndEnvironment()
    {
        await using var node = await DroneHarness.StartAsync();
        Assert.Equal(DroneResponse.ResultOneofCase.Ack, (await node.InstallAsync("t-install", "v1", Archives.Create(
            Archives.Script("scripts/start.sh", "echo \"out $1 $PITRIX_NODE_ID $PITRIX_NODE_IP $(pwd)\"; echo \"err $ZK_PORT\" >&2; exit 3")))).ResultCase);

        var accepted = await node.RunCommandAsync("t-1", "/opt/pitrix/app/scripts/start.sh 'first arg'", new() { ["ZK_PORT"] = "2181" });

        Assert.Equal("t-1", accepted.RunCommandAccepted.TaskId);
        var result = (await node.ResultsAsync("t-1")).Single().CommandResult;
        Assert.Equal(3, result.ExitCode);
        Assert.Equal($"out first arg nd-1 10.0.0.12 {node.AppDirectory}\n", result.StdoutTail);
        Assert.Equal("err 2181\n", result.StderrTail);
        Assert.Equal(DroneHarness.NodeId, result.NodeId);
        Assert.False(result.TimedOut);
        Assert.Equal("", result.ErrorCode);
        Assert.True(result.Duration.ToTimeSpan() > TimeSpan.Zero);
    }

    [Fact]
    public async Task RunCommand_MissingExecutable_ReportsCommandNotFound()
    {
        await using var node = await DroneHarness.StartAsync();

        await node.RunCommandAsync("t-missing", "/opt/pitrix/app/scripts/nowhere.sh");

        var result = (await node.ResultsAsync("t-missing")).Single().CommandResult;
        Assert.Equal(-1, result.ExitCode);
        Assert.Equal(DroneErrorCodes.CommandNotFound, result.ErrorCode);
        Assert.Contains("nowhere.sh", result.ErrorMessage, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunCommand_SameTaskIdTwice_RunsOnceAndReportsTheStoredResultAgain()
    {
        await using var node = await DroneHarness.StartAsync();
        await node.InstallAsync("t-install", "v1", Archives.Create(
            Archives.Script("scripts/count.sh", "echo run >> \"$PITRIX_ROOT/count\"; echo counted")));

        await node.RunCommandAsync("t-once", "/opt/pitrix/app/scripts/count.sh");
        await node.ResultsAsync("t-once");
        var again = await node.RunCommandAsync("t-once", "/opt/pitrix/app/scripts/count.sh");

        Assert.Equal("t-once", again.RunCommandAccepted.TaskId);
        var results = await node.ResultsAsync("t-once", count: 2);
        Assert.All(results, r => Assert.Equal("counted\n", r.CommandResult.StdoutTail));
        Assert.Equal(1, Lines(Path.Combine(node.Root, "count")));
    }

    [Fact]
    public async Task RunCommand_ShellSyntaxInAValue_ReachesTheCommandLiterally()
    {
        await using var node = await DroneHarness.StartAsync();
        await node.InstallAsync("t-install", "v1", Archives.Create(Archives.Script("scripts/echo.sh", "printf '%s' \"$VALUE\"")));

        await node.RunCommandAsync("t-inject", "/opt/pitrix/app/scripts/echo.sh", new() { ["VALUE"] = "$(touch pwned-marker)`touch pwned-marker`" });

        var result = (await node.ResultsAsync("t-inject")).Single().CommandResult;
        Assert.Equal(0, result.ExitCode);
        Assert.Equal("$(touch pwned-marker)`touch pwned-marker`", result.StdoutTail);
        Assert.Empty(Directory.GetFiles(node.Root, "pwned-marker", SearchOption.AllDirectories));
        Assert.False(File.Exists(Path.Combine(Environment.CurrentDirectory, "pwned-marker")));
    }

    [Fact]
    public async Task InstallFiles_SwapsTheSetAndRefusesHostileArchivesKeepingWhatWasInstalled()
    {
        await using var node = await DroneHarness.StartAsync();
        Assert.Equal(DroneResponse.ResultOneofCase.Ack, (await node.InstallAsync("t-v1", "v1", Archives.Create(
            Archives.Script("scripts/old.sh", "true"), Archives.File("README", "v1")))).ResultCase);
        Assert.Equal(DroneResponse.ResultOneofCase.Ack, (await node.InstallAsync("t-v2", "v2", Archives.Create(
            Archives.Script("scripts/new.sh", "true"), Archives.File("README", "v2"), Archives.Symlink("scripts/current", "new.sh")))).ResultCase);

        Assert.False(File.Exists(Path.Combine(node.AppDirectory, "scripts/old.sh")));
        Assert.Equal("v2", await File.ReadAllTextAsync(Path.Combine(node.AppDirectory, "README")));
        Assert.Equal("v2", (await node.StatusAsync()).AppVersion);

        byte[][] hostile =
        [
            Archives.Create(Archives.File("README", "evil"), Archives.File("../x", "escaped")),
            Archives.Create(Archives.File("/etc/evil", "escaped")),
            Archives.Create(Archives.Symlink("etc", "/etc"), Archives.File("etc/evil", "escaped")),
            Archives.Create(Archives.Symlink("up", "../../..")),
            [0x1f, 0x8b, 0x08, 0x00, 0x01, 0x02],
        ];
        foreach (var archive in hostile)
        {
            var response = await node.InstallAsync("t-evil", "evil", archive);
            Assert.Equal(DroneErrorCodes.Rejected, response.Error?.Code);
        }

        Assert.Equal("v2", await File.ReadAllTextAsync(Path.Combine(node.AppDirectory, "README")));
        Assert.True(File.Exists(Path.Combine(node.AppDirectory, "scripts/new.sh")));
        Assert.False(File.Exists(Path.Combine(node.Root, "opt/pitrix/x")));
        Assert.False(File.Exists("/etc/evil"));
        Assert.Equal(["app"], Directory.GetFileSystemEntries(Path.Combine(node.Root, "opt/pitrix")).Select(Path.GetFileName));
        Assert.Equal("v2", (await node.StatusAsync()).AppVersion);
    }

    [Fact]
    public async Task StartConfigWatch_AnswersOnceRendered_AndNamesATemplateThatFails()
    {
        await using var node = await DroneHarness.StartAsync();
        SeedZooKeeperMetadata(node.World.Metadata);
        await node.InstallAsync("t-install", "v1", Archives.Create(
            Archives.File("confd/conf.d/zoo.toml", ZooToml),
            Archives.File("confd/templates/zoo.cfg.tmpl", ZooTemplate),
            Archives.Script("scripts/reload.sh", "true"),
            Archives.File("confd/conf.d/broken.toml", "[template]\nsrc = \"broken.tmpl\"\ndest = \"/etc/broken\"\nkeys = [\"/\"]\n"),
            Archives.File("confd/templates/broken.tmpl", "{{getv \"/host/missing\"}}")));

        // The answer comes after the render: the file is there the moment the engine hears back.
        var response = await node.SendAsync(new FrontgateToDroneMessage { StartConfigWatch = new StartConfigWatchRequest { NodeId = DroneHarness.NodeId } });
        Assert.Equal(ExpectedZooCfg(node.Root), await File.ReadAllTextAsync(Path.Combine(node.Root, "etc/zookeeper/conf/zoo.cfg")));
        Assert.Equal(DroneResponse.ResultOneofCase.Error, response.ResultCase);
        Assert.Equal("drone.config_not_rendered", response.Error.Code);
        Assert.True(response.Error.Retryable);
        Assert.Contains("broken", response.Error.Message, StringComparison.Ordinal);
        Assert.Contains("/host/missing", response.Error.Message, StringComparison.Ordinal);

        // Once the key exists, asking again answers with the latest render: success.
        node.World.Metadata.Put(("host/missing", "here"));
        await WaitForFileAsync(Path.Combine(node.Root, "etc/broken"), "here");
        await StartWatchingAsync(node);
    }

    [Fact]
    public async Task ConfigWatch_RendersUnderTheRootAndReRendersWithinASecondReloadingOnlyOnChange()
    {
        await using var node = await DroneHarness.StartAsync();
        SeedZooKeeperMetadata(node.World.Metadata);
        await node.InstallAsync("t-install", "v1", ZooKeeperApp());
        var zooCfg = Path.Combine(node.Root, "etc/zookeeper/conf/zoo.cfg");
        var reloads = Path.Combine(node.Root, "reloads");

        await StartWatchingAsync(node);

        await WaitForFileAsync(zooCfg, ExpectedZooCfg(node.Root));
        await WaitForLinesAsync(reloads, 1);
        Assert.True((await node.StatusAsync()).WatchingConfig);

        // A key the template does not read: rendered again, output unchanged, no reload.
        node.World.Metadata.Put(("host/ip", "10.0.0.99"));
        await Task.Delay(TimeSpan.FromSeconds(1));
        Assert.Equal(1, Lines(reloads));

        var clock = Stopwatch.StartNew();
        node.World.Metadata.Put(("env/tick_time", "3000"));
        await WaitForFileAsync(zooCfg, ExpectedZooCfg(node.Root, "3000"), seconds: 5);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(1), $"re-rendered after {clock.Elapsed.TotalMilliseconds} ms");
        await WaitForLinesAsync(reloads, 2);
        await Task.Delay(300);
        Assert.Equal(2, Lines(reloads));
    }

    [Fact]
    public async Task Reconnect_AfterTheFrontgateRestarts_ResumesTheStreamAndTheWatch()
    {
        await using var node = await DroneHarness.StartAsync();
        SeedZooKeeperMetadata(node.World.Metadata);
        await node.InstallAsync("t-install", "v1", ZooKeeperApp());
        await StartWatchingAsync(node);
        var zooCfg = Path.Combine(node.Root, "etc/zookeeper/conf/zoo.cfg");
        await WaitForFileAsync(zooCfg, ExpectedZooCfg(node.Root));

        await node.RestartFrontgateAsync();
        node.World.Metadata.Put(("env/tick_time", "4000"));
        var drone = await node.ConnectedAsync(seconds: 20);

        Assert.Equal(DroneResponse.ResultOneofCase.Pong, (await drone.SendAsync(new FrontgateToDroneMessage { Ping = new PingRequest() })).ResultCase);
        await WaitForFileAsync(zooCfg, ExpectedZooCfg(node.Root, "4000"), seconds: 20);
        Assert.True(node.World.WatchRequests.Count >= 2);
        Assert.True(node.World.WatchRequests.Last() > 0, "the watch resumes after the last revision seen, not from a new snapshot");
    }

    [Fact]
    public async Task Restart_DroneResumesWatchingHealthAndUndeliveredResults()
    {
        await using var node = await DroneHarness.StartAsync();
        SeedZooKeeperMetadata(node.World.Metadata);
        await node.InstallAsync("t-install", "v1", Archives.Create(
            Archives.Script("scripts/slow.sh", "sleep 1; echo done"),
            Archives.Script("scripts/check.sh", "test -f \"$PITRIX_ROOT/healthy\""),
            Archives.File("confd/conf.d/zoo.toml", ZooToml),
            Archives.File("confd/templates/zoo.cfg.tmpl", ZooTemplate),
            Archives.Script("scripts/reload.sh", "echo reloaded >> \"$PITRIX_ROOT/reloads\"")));
        await StartWatchingAsync(node);
        await node.SendAsync(new FrontgateToDroneMessage
        {
            ConfigureHealthCheck = new ConfigureHealthCheckRequest
            {
                NodeId = DroneHarness.NodeId,
                Enabled = true,
                CheckCmd = "/opt/pitrix/app/scripts/check.sh",
                Interval = Duration.FromTimeSpan(TimeSpan.FromMilliseconds(200)),
                HealthyThreshold = 1,
                UnhealthyThreshold = 1,
            },
        });
        var zooCfg = Path.Combine(node.Root, "etc/zookeeper/conf/zoo.cfg");
        await WaitForFileAsync(zooCfg, ExpectedZooCfg(node.Root));

        // The command ends while the frontgate is away; the drone is then restarted before it could deliver.
        await node.RunCommandAsync("t-slow", "/opt/pitrix/app/scripts/slow.sh");
        await node.StopFrontgateAsync();
        await Task.Delay(TimeSpan.FromSeconds(2));
        await node.StopDroneAsync();
        Assert.DoesNotContain(node.World.Messages.All(), m => m.CommandResult?.TaskId == "t-slow");

        await node.RestartFrontgateAsync();
        node.World.Metadata.Put(("env/tick_time", "5000"));
        await File.WriteAllTextAsync(Path.Combine(node.Root, "healthy"), "");
        node.StartDrone();

        var result = (await node.ResultsAsync("t-slow", seconds: 20)).Single().CommandResult;
        Assert.Equal("done\n", result.StdoutTail);
        await WaitForFileAsync(zooCfg, ExpectedZooCfg(node.Root, "5000"), seconds: 20);
        await node.World.Messages.WaitForAsync(m => m.NodeHealth?.State == HealthState.Healthy);
        var status = await node.StatusAsync();
        Assert.True(status.WatchingConfig);
        Assert.Equal("v1", status.AppVersion);
        Assert.Equal(HealthState.Healthy, status.Health);
    }

    [Fact]
    public async Task HealthCheck_ReportsEachChangeOfState()
    {
        await using var node = await DroneHarness.StartAsync();
        await node.InstallAsync("t-install", "v1", Archives.Create(
            Archives.Script("scripts/check.sh", "test -f \"$PITRIX_ROOT/healthy\""),
            Archives.Script("scripts/restart.sh", "echo restarted >> \"$PITRIX_ROOT/actions\"")));
        var healthy = Path.Combine(node.Root, "healthy");
        await File.WriteAllTextAsync(healthy, "");

        var response = await node.SendAsync(new FrontgateToDroneMessage
        {
            ConfigureHealthCheck = new ConfigureHealthCheckRequest
            {
                NodeId = DroneHarness.NodeId,
                Enabled = true,
                CheckCmd = "/opt/pitrix/app/scripts/check.sh",
                ActionCmd = "/opt/pitrix/app/scripts/restart.sh",
                Interval = Duration.FromTimeSpan(TimeSpan.FromMilliseconds(100)),
                Timeout = Duration.FromTimeSpan(TimeSpan.FromSeconds(5)),
                HealthyThreshold = 1,
                UnhealthyThreshold = 2,
            },
        });

        Assert.Equal(DroneResponse.ResultOneofCase.Ack, response.ResultCase);
        await node.World.Messages.WaitForAsync(m => m.NodeHealth?.State == HealthState.Healthy);
        File.Delete(healthy);
        var unhealthy = (await node.World.Messages.WaitForAsync(m => m.NodeHealth?.State == HealthState.Unhealthy)).Single().NodeHealth;
        Assert.Equal(DroneHarness.NodeId, unhealthy.NodeId);
        Assert.Contains("check failed", unhealthy.Detail, StringComparison.Ordinal);
        Assert.Equal(1, Lines(Path.Combine(node.Root, "actions")));

        // Steady state sends no further change reports (periodic ones come every minute).
        await Task.Delay(500);
        Assert.Single(node.World.Messages.All(), m => m.NodeHealth?.State == HealthState.Unhealthy);
        Assert.Single(node.World.Messages.All(), m => m.NodeHealth?.State == HealthState.Healthy);
    }

    [Fact]
    public async Task ConfigureHealthCheck_CommandNeedingAShell_IsRejected()
    {
        await using var node = await DroneHarness.StartAsync();

        var response = await node.SendAsync(new FrontgateToDroneMessage
        {
            ConfigureHealthCheck = new ConfigureHealthCheckRequest { NodeId = DroneHarness.NodeId, Enabled = true, CheckCmd = "curl localhost | grep ok" },
        });

        Assert.Equal(DroneErrorCodes.Rejected, response.Error?.Code);
    }
}
