using System.Formats.Tar;
using Pitrix.Drone.Agent;
using Pitrix.Drone.Apps;
using Pitrix.Drone.Confd;
using Pitrix.Templates;

namespace Pitrix.Drone.Tests;

public sealed class NodeAgentUnitTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void NodeRoot_Map_PutsAbsolutePathsUnderTheRootAndCannotClimbOut()
    {
        var root = new NodeRoot(_dir.Path);

        Assert.Equal(_dir.Path + "/etc/zookeeper/conf/zoo.cfg", root.Map("/etc/zookeeper/conf/zoo.cfg"));
        Assert.Equal(_dir.Path + "/etc/passwd", root.Map("/../../etc/passwd"));
        Assert.Equal("/etc/zoo.cfg", NodeRoot.System.Map("/etc/zoo.cfg"));
        Assert.Equal(_dir.Path + "/opt/pitrix/app", root.AppDirectory);
    }

    [Fact]
    public void NodeRoot_ResolveCommand_RunsAppScriptsFromTheRootAndSystemBinariesAsTheyAre()
    {
        var root = new NodeRoot(_dir.Path);
        Directory.CreateDirectory(_dir.File("opt/pitrix/app/scripts"));
        File.WriteAllText(_dir.File("opt/pitrix/app/scripts/start.sh"), "");

        Assert.Equal([_dir.File("opt/pitrix/app/scripts/start.sh"), "a"], root.ResolveCommand(["/opt/pitrix/app/scripts/start.sh", "a"]));
        Assert.Equal(["/bin/sh", "-c", "true"], root.ResolveCommand(["/bin/sh", "-c", "true"]));
        Assert.Equal(["test", "-f", "/x"], root.ResolveCommand(["test", "-f", "/x"]));
    }

    [Fact]
    public void Getenv_ReadsOnlyPitrixVariables()
    {
        var set = new TemplateSet(new FunctionLibrary().AddConfd(new InMemoryKeyValueView(new Dictionary<string, string>()), new Dictionary<string, string> { ["PITRIX_ROOT"] = "/nodes/n1" }), TemplateOptions.Default);
        set.Parse("ok", "{{getenv \"PITRIX_ROOT\"}}/data {{getenv \"PITRIX_MISSING\" \"fallback\"}}");
        set.Parse("secret", "{{getenv \"HOME\"}}");

        Assert.Equal("/nodes/n1/data fallback", set.Execute("ok", null, CancellationToken.None));
        var error = Assert.ThrowsAny<TemplateException>(() => set.Execute("secret", null, CancellationToken.None));
        Assert.Contains("PITRIX_", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void CommandLine_ParsesBootstrapDataDirAndRootFromArgumentsOrEnvironment()
    {
        var bootstrap = _dir.File("agent.json");
        using var key = System.Security.Cryptography.ECDsa.Create();
        using var ca = new System.Security.Cryptography.X509Certificates.CertificateRequest("CN=test", key, System.Security.Cryptography.HashAlgorithmName.SHA256)
            .CreateSelfSigned(DateTimeOffset.UtcNow, DateTimeOffset.UtcNow.AddHours(1));
        File.WriteAllText(bootstrap, new Pitrix.Core.Agents.AgentBootstrap
        {
            Agent = "node",
            Id = "nd-1",
            JoinToken = "pjt_x",
            CaPem = ca.ExportCertificatePem(),
            FrontgateAddress = "https://127.0.0.1:9111",
            FrontgateId = "fg-1",
        }.ToJson());
        var badCa = _dir.File("bad-ca.json");
        File.WriteAllText(badCa, """{"agent":"node","id":"nd-1","join_token":"pjt_x","ca_pem":"not a pem","frontgate_address":"https://127.0.0.1:9111","frontgate_id":"fg-1"}""");

        var fromArgs = DroneCommandLine.TryParse(["--bootstrap", bootstrap, "--data-dir", _dir.File("data"), "--root", _dir.File("root")], _ => null, out var error);
        var fromEnv = DroneCommandLine.TryParse(["--bootstrap=" + bootstrap, "--data-dir=" + _dir.File("data")], n => n == "PITRIX_ROOT" ? "/srv/node" : null, out _);
        var missing = DroneCommandLine.TryParse(["--data-dir", "x"], _ => null, out var usage);
        var unknown = DroneCommandLine.TryParse(["--bootstrap", bootstrap, "--data-dir", "x", "--verbose", "1"], _ => null, out var unknownError);

        Assert.Null(DroneCommandLine.TryParse(["--bootstrap", badCa, "--data-dir", "x"], _ => null, out var caError));
        Assert.Contains("ca_pem", caError, StringComparison.Ordinal);
        Assert.Null(error);
        Assert.Equal(_dir.File("root"), fromArgs!.Root.Path);
        Assert.Equal("fg-1", fromArgs.Bootstrap.FrontgateId);
        Assert.Equal("/srv/node", fromEnv!.Root.Path);
        Assert.Null(missing);
        Assert.Contains("--bootstrap FILE", usage, StringComparison.Ordinal);
        Assert.Null(unknown);
        Assert.Contains("--verbose", unknownError, StringComparison.Ordinal);
    }

    [Fact]
    public void CommandLine_FrontgateBootstrap_IsRefused()
    {
        var bootstrap = _dir.File("agent.json");
        File.WriteAllText(bootstrap, """{"agent":"frontgate","id":"fg-1","join_token":"pjt_x","ca_pem":"not a pem"}""");

        Assert.Null(DroneCommandLine.TryParse(["--bootstrap", bootstrap, "--data-dir", "x"], _ => null, out var error));
        Assert.Contains("'frontgate'", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("hardlink")]
    [InlineData("fifo")]
    [InlineData("chardevice")]
    [InlineData("dotdot-link")]
    [InlineData("too-many")]
    [InlineData("too-large")]
    public async Task Installer_RefusedArchive_LeavesTheInstalledSetUntouched(string kind)
    {
        var installer = new AppFilesInstaller(new NodeRoot(_dir.Path), new AppFilesLimits { MaxEntries = 3, MaxFileBytes = 10 });
        using (var good = new MemoryStream(Archives.Create(Archives.File("keep.txt", "kept"))))
        {
            Assert.True((await installer.InstallAsync(good, CancellationToken.None)).Succeeded);
        }

        TarEntry[] entries = kind switch
        {
            "hardlink" => [new PaxTarEntry(TarEntryType.HardLink, "passwd") { LinkName = "/etc/passwd" }],
            "fifo" => [new PaxTarEntry(TarEntryType.Fifo, "pipe")],
            "chardevice" => [new PaxTarEntry(TarEntryType.CharacterDevice, "null") { DeviceMajor = 1, DeviceMinor = 3 }],
            "dotdot-link" => [Archives.Symlink("a/b/link", "../../../outside")],
            "too-many" => [Archives.File("1", ""), Archives.File("2", ""), Archives.File("3", ""), Archives.File("4", "")],
            _ => [Archives.File("big", "more than ten bytes")],
        };
        using var bad = new MemoryStream(Archives.Create(entries));

        var result = await installer.InstallAsync(bad, CancellationToken.None);

        Assert.False(result.Succeeded);
        Assert.False(string.IsNullOrEmpty(result.Error));
        Assert.Equal("kept", await File.ReadAllTextAsync(_dir.File("opt/pitrix/app/keep.txt")));
        Assert.Equal(["app"], Directory.GetFileSystemEntries(_dir.File("opt/pitrix")).Select(Path.GetFileName));
    }

    [Fact]
    public void Installer_Recover_PutsBackThePreviousSetWhenASwapWasCutInTheMiddle()
    {
        Directory.CreateDirectory(_dir.File("opt/pitrix/.app.1.old"));
        File.WriteAllText(_dir.File("opt/pitrix/.app.1.old/keep.txt"), "kept");
        Directory.CreateDirectory(_dir.File("opt/pitrix/.app.2.new"));

        new AppFilesInstaller(new NodeRoot(_dir.Path)).RecoverInterruptedInstall();

        Assert.Equal("kept", File.ReadAllText(_dir.File("opt/pitrix/app/keep.txt")));
        Assert.Equal(["app"], Directory.GetFileSystemEntries(_dir.File("opt/pitrix")).Select(Path.GetFileName));
    }
}
