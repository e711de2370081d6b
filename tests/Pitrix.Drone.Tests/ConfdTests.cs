using System.Diagnostics;
using Pitrix.Drone.Confd;
using Pitrix.Drone.Metadata;

namespace Pitrix.Drone.Tests;

public sealed class ConfdTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public ConfdTests()
    {
        Directory.CreateDirectory(_dir.File("confd/conf.d"));
        Directory.CreateDirectory(_dir.File("confd/templates"));
        Directory.CreateDirectory(_dir.File("out"));
    }

    public void Dispose() => _dir.Dispose();

    private static Dictionary<string, string> ZooKeeper(string tickTime = "2000") => new()
    {
        ["/self/host/ip"] = "10.0.0.12",
        ["/self/host/sid"] = "2",
        ["/env/tick_time"] = tickTime,
        ["/hosts/zk_node/zk1/sid"] = "1",
        ["/hosts/zk_node/zk1/ip"] = "10.0.0.11",
        ["/hosts/zk_node/zk2/sid"] = "2",
        ["/hosts/zk_node/zk2/ip"] = "10.0.0.12",
    };

    private const string ZooTemplate =
        "tickTime={{getv \"/env/tick_time\"}}\n{{range $dir := lsdir \"/hosts/zk_node\"}}server.{{getv (printf \"/hosts/zk_node/%s/sid\" $dir)}}={{getv (printf \"/hosts/zk_node/%s/ip\" $dir)}}:2888:3888\n{{end}}";

    private string Dest(string name) => _dir.File("out/" + name);

    private void Resource(string name, string template, string extra = "", string keys = "[\"/\"]")
    {
        File.WriteAllText(_dir.File($"confd/templates/{name}.tmpl"), template);
        File.WriteAllText(_dir.File($"confd/conf.d/{name}.toml"), $"""
            [template]
            src = "{name}.tmpl"
            dest = "{Dest(name)}"
            keys = {keys}
            mode = "0640"
            {extra}
            """);
    }

    private ConfdRenderer NewRenderer() => new(new ConfdRendererOptions { ConfDirectory = _dir.File("confd") });

    [Fact]
    public void Parse_ConfdToml_ReadsEveryField()
    {
        var resource = ConfdResource.Parse("zoo", """
            [template]
            src = "zoo.cfg.tmpl"
            dest = "/etc/zookeeper/zoo.cfg"
            keys = ["/hosts", "/env"]
            mode = "0644"
            uid = 1000
            gid = 1001
            check_cmd = "test -s {{.src}}"
            reload_cmd = "systemctl try-restart zookeeper"
            """, out var error);

        Assert.Null(error);
        Assert.NotNull(resource);
        Assert.Equal("zoo.cfg.tmpl", resource.Src);
        Assert.Equal("/etc/zookeeper/zoo.cfg", resource.Dest);
        Assert.Equal(["/hosts", "/env"], resource.Keys);
        Assert.Equal((UnixFileMode)Convert.ToInt32("644", 8), resource.Mode);
        Assert.Equal(1000, resource.Uid);
        Assert.Equal(1001, resource.Gid);
        Assert.Equal("test -s {{.src}}", resource.CheckCmd);
        Assert.Equal("systemctl try-restart zookeeper", resource.ReloadCmd);
    }

    [Theory]
    [InlineData("[template]\nsrc = \"a\"\n", "dest")]
    [InlineData("[template]\nsrc = \"a\"\ndest = \"relative/x\"\n", "absolute")]
    [InlineData("[template]\nsrc = \"../../etc/shadow\"\ndest = \"/x\"\n", "inside templates")]
    [InlineData("[template]\nsrc = \"a\"\ndest = \"/x\"\nmode = \"0999\"\n", "octal")]
    [InlineData("[template]\nsrc = \"a\"\ndest = \"/x\"\nkeys = \"/\"\n", "keys")]
    [InlineData("[template\nsrc = \"a\"\n", "TOML")]
    [InlineData("src = \"a\"\n", "[template]")]
    public void Parse_InvalidResource_ReturnsAReason(string toml, string reasonFragment)
    {
        Assert.Null(ConfdResource.Parse("bad", toml, out var error));
        Assert.Contains(reasonFragment, error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RenderAll_Metadata_WritesFileWithModeAndSkipsWhenUnchanged()
    {
        var reloads = _dir.File("reloads");
        Resource("zoo", ZooTemplate, $"reload_cmd = \"{_dir.Script("reload.sh", $"echo reloaded >> {reloads}")}\"");
        var renderer = NewRenderer();
        var snapshot = new MetadataSnapshot(1, ZooKeeper());

        var first = await renderer.RenderAllAsync(snapshot);
        var written = File.GetLastWriteTimeUtc(Dest("zoo"));
        var second = await renderer.RenderAllAsync(new MetadataSnapshot(2, ZooKeeper()));

        Assert.Equal(ConfdOutcome.Updated, Assert.Single(first).Outcome);
        Assert.Equal("tickTime=2000\nserver.1=10.0.0.11:2888:3888\nserver.2=10.0.0.12:2888:3888\n", await File.ReadAllTextAsync(Dest("zoo")));
        Assert.Equal((UnixFileMode)Convert.ToInt32("640", 8), File.GetUnixFileMode(Dest("zoo")));
        Assert.Equal(ConfdOutcome.Unchanged, Assert.Single(second).Outcome);
        Assert.Equal(written, File.GetLastWriteTimeUtc(Dest("zoo")));
        Assert.Equal(["reloaded"], await File.ReadAllLinesAsync(reloads));
        Assert.Empty(Directory.GetFiles(_dir.File("out"), ".*"));
    }

    [Fact]
    public async Task RenderAll_ChangedValue_RewritesAndReloadsAgain()
    {
        var reloads = _dir.File("reloads");
        Resource("zoo", ZooTemplate, $"reload_cmd = \"{_dir.Script("reload.sh", $"echo reloaded >> {reloads}")}\"");
        var renderer = NewRenderer();

        await renderer.RenderAllAsync(new MetadataSnapshot(1, ZooKeeper()));
        var results = await renderer.RenderAllAsync(new MetadataSnapshot(2, ZooKeeper(tickTime: "3000")));

        Assert.Equal(ConfdOutcome.Updated, Assert.Single(results).Outcome);
        Assert.StartsWith("tickTime=3000\n", await File.ReadAllTextAsync(Dest("zoo")), StringComparison.Ordinal);
        Assert.Equal(["reloaded", "reloaded"], await File.ReadAllLinesAsync(reloads));
    }

    [Fact]
    public async Task RenderAll_CheckCommandFails_KeepsTheOldFileAndDoesNotReload()
    {
        var reloads = _dir.File("reloads");
        // The check sees the staged file through {{.src}} and refuses any tickTime other than 2000.
        var check = _dir.Script("check.sh", "grep -q '^tickTime=2000$' \"$1\" || { echo \"bad config in $1\" >&2; exit 1; }");
        Resource("zoo", ZooTemplate, $"check_cmd = \"{check} {{{{.src}}}}\"\nreload_cmd = \"{_dir.Script("reload.sh", $"echo reloaded >> {reloads}")}\"");
        var renderer = NewRenderer();
        await renderer.RenderAllAsync(new MetadataSnapshot(1, ZooKeeper()));
        var before = await File.ReadAllTextAsync(Dest("zoo"));

        var result = Assert.Single(await renderer.RenderAllAsync(new MetadataSnapshot(2, ZooKeeper(tickTime: "9"))));

        Assert.Equal(ConfdOutcome.CheckFailed, result.Outcome);
        Assert.Contains("bad config in " + _dir.File("out/.zoo.pitrix-"), result.Check!.StderrTail, StringComparison.Ordinal);
        Assert.Equal(before, await File.ReadAllTextAsync(Dest("zoo")));
        Assert.Equal(["reloaded"], await File.ReadAllLinesAsync(reloads));
        Assert.Empty(Directory.GetFiles(_dir.File("out"), ".*"));
    }

    [Fact]
    public async Task RenderAll_OneBrokenResource_DoesNotStopTheOthers()
    {
        Resource("a-missing-key", "{{getv \"/env/nope\"}}");
        Resource("b-bad-syntax", "{{if}}");
        await File.WriteAllTextAsync(_dir.File("confd/conf.d/c-bad.toml"), "[template]\nsrc = 1\n");
        Resource("d-filtered", "{{getv \"/env/tick_time\"}}", keys: "[\"/self\"]");
        Resource("e-myid", "{{getv \"/self/host/sid\"}}\n", keys: "[\"/self/host/sid\"]");
        Resource("f-reload-fails", "x\n", "reload_cmd = \"/bin/false\"");

        var results = await NewRenderer().RenderAllAsync(new MetadataSnapshot(1, ZooKeeper()));

        Assert.Equal(
            [ConfdOutcome.TemplateFailed, ConfdOutcome.TemplateFailed, ConfdOutcome.InvalidResource, ConfdOutcome.TemplateFailed, ConfdOutcome.Updated, ConfdOutcome.ReloadFailed],
            results.Select(r => r.Outcome));
        Assert.All(results.Where(r => !r.Succeeded), r => Assert.False(string.IsNullOrEmpty(r.Error)));
        Assert.Equal("2\n", await File.ReadAllTextAsync(Dest("e-myid")));
        Assert.Equal("x\n", await File.ReadAllTextAsync(Dest("f-reload-fails")));
        Assert.False(File.Exists(Dest("a-missing-key")));
    }

    [Fact]
    public async Task Watcher_MetadataChange_ReRendersWithinASecond()
    {
        Resource("zoo", ZooTemplate);
        var source = new InMemoryMetadataSource(ZooKeeper());
        var watcher = new ConfdWatcher(source, NewRenderer());
        var passes = new List<ConfdRenderedEventArgs>();
        var rendered = new TaskCompletionSource<ConfdRenderedEventArgs>(TaskCreationOptions.RunContinuationsAsynchronously);
        watcher.Rendered += (_, e) =>
        {
            lock (passes)
            {
                passes.Add(e);
            }

            if (e.Results.Any(r => r.Outcome == ConfdOutcome.Updated) && File.ReadAllText(Dest("zoo")).Contains("server.3", StringComparison.Ordinal))
            {
                rendered.TrySetResult(e);
            }
        };
        using var cts = new CancellationTokenSource();
        var running = watcher.RunAsync(cts.Token);
        await WaitUntilAsync(() => File.Exists(Dest("zoo")));

        // A burst of writes, as the pilot registering a new node produces; it should render once, with all of them.
        var changed = Stopwatch.StartNew();
        source.Set("/hosts/zk_node/zk3/sid", "3");
        source.Set("/hosts/zk_node/zk3/ip", "10.0.0.13");
        source.Set("/env/tick_time", "2500");
        var pass = await rendered.Task.WaitAsync(TimeSpan.FromSeconds(10));
        var latency = changed.Elapsed;
        await cts.CancelAsync();
        await running;

        Assert.Equal("tickTime=2500\nserver.1=10.0.0.11:2888:3888\nserver.2=10.0.0.12:2888:3888\nserver.3=10.0.0.13:2888:3888\n", await File.ReadAllTextAsync(Dest("zoo")));
        Assert.Equal(4, pass.Revision);
        Assert.Equal(2, passes.Count);
        // One second is the contract; the margin absorbs a loaded machine, while OpenPitrix's 10 s poll would fail.
        Assert.True(latency < TimeSpan.FromSeconds(3), $"re-rendered after {latency}");
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        var deadline = Stopwatch.StartNew();
        while (!condition())
        {
            Assert.True(deadline.Elapsed < TimeSpan.FromSeconds(10), "condition never held");
            await Task.Delay(10);
        }
    }
}
