using System.Formats.Tar;
using System.IO.Compression;
using System.Text;
using Google.Protobuf;
using Microsoft.Extensions.Logging;
using Pitrix.Agent;
using Pitrix.Agent.Protocol.V1;
using Pitrix.Core.Agents;
using Pitrix.Drone.Agent;

namespace Pitrix.Drone.Tests;

/// <summary>
/// One node for the drone's end-to-end tests: a node root and data directory, the test frontgate's world, and the
/// real <see cref="DroneAgent"/> run in-process. Stopping and starting the drone again is a drone restart.
/// </summary>
internal sealed class DroneHarness : IAsyncDisposable
{
    public const string NodeId = "nd-1";

    private readonly TempDirectory _dir = new();
    private CancellationTokenSource? _stop;
    private Task? _run;
    private DroneAgent? _drone;

    private DroneHarness(TimeSpan? certificateLifetime)
    {
        Directory.CreateDirectory(Root);
        World = new TestFrontgateWorld(_dir.File("pilot"), certificateLifetime);
    }

    public TestFrontgateWorld World { get; }

    public TestFrontgate? Frontgate { get; private set; }

    public string Root => _dir.File("node-root");

    public string DataDirectory => _dir.File("drone-data");

    public string AppDirectory => Path.Combine(Root, "opt/pitrix/app");

    public AgentBootstrap Bootstrap { get; private set; } = null!;

    public static async Task<DroneHarness> StartAsync(bool startDrone = true, TimeSpan? certificateLifetime = null)
    {
        var harness = new DroneHarness(certificateLifetime);
        harness.Frontgate = await TestFrontgate.StartAsync(harness.World);
        await harness.IssueBootstrapAsync(harness.Frontgate.Port);
        if (startDrone)
        {
            harness.StartDrone();
        }

        return harness;
    }

    public async Task IssueBootstrapAsync(int port)
    {
        var token = await World.JoinTokens.IssueAsync(AgentIdentity.Node(NodeId), TimeSpan.FromMinutes(10), CancellationToken.None);
        Bootstrap = new AgentBootstrap
        {
            Agent = AgentKinds.Node,
            Id = NodeId,
            JoinToken = token.Token,
            CaPem = World.Ca.CertificatePem,
            FrontgateAddress = $"https://127.0.0.1:{port}",
            FrontgateId = TestFrontgateWorld.FrontgateId,
            NodeIp = "10.0.0.12",
        };
    }

    public void StartDrone()
    {
        _drone = new DroneAgent(
            new DroneOptions
            {
                Bootstrap = Bootstrap,
                DataDirectory = DataDirectory,
                Root = new NodeRoot(Root),
                HealthReportInterval = TimeSpan.FromSeconds(60),
            },
            LoggerFactory.Create(_ => { }).CreateLogger<DroneAgent>());
        _stop = new CancellationTokenSource();
        _run = _drone.RunAsync(_stop.Token);
    }

    public async Task StopDroneAsync()
    {
        if (_drone is null)
        {
            return;
        }

        await _stop!.CancelAsync();
        await _run!.WaitAsync(TimeSpan.FromSeconds(20));
        await _drone.DisposeAsync();
        _stop.Dispose();
        _drone = null;
    }

    public async Task StopFrontgateAsync()
    {
        if (Frontgate is not null)
        {
            await Frontgate.DisposeAsync();
            Frontgate = null;
        }
    }

    /// <summary>Starts the frontgate again on the port the drone dials.</summary>
    public async Task RestartFrontgateAsync()
    {
        var port = new Uri(Bootstrap.FrontgateAddress!).Port;
        await StopFrontgateAsync();
        Frontgate = await TestFrontgate.StartAsync(World, port);
    }

    /// <summary>Waits for the drone's stream to be open at the test frontgate.</summary>
    public async Task<DroneStream> ConnectedAsync(double seconds = 15)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (!World.Drones.ContainsKey(NodeId))
        {
            Assert.True(DateTime.UtcNow < deadline, $"The drone did not connect within {seconds} s.");
            await Task.Delay(20);
        }

        return World.Drones[NodeId];
    }

    /// <summary>Waits until the test frontgate has noticed the drone's stream is gone.</summary>
    public async Task DisconnectedAsync(double seconds = 15)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (World.Drones.ContainsKey(NodeId))
        {
            Assert.True(DateTime.UtcNow < deadline, $"The frontgate still holds the drone's stream after {seconds} s.");
            await Task.Delay(20);
        }
    }

    public async Task<DroneResponse> SendAsync(FrontgateToDroneMessage message) => await (await ConnectedAsync()).SendAsync(message);

    public async Task<DroneResponse> RunCommandAsync(string taskId, string command, Dictionary<string, string>? env = null)
    {
        var request = new RunCommandRequest { NodeId = NodeId, TaskId = taskId, Command = command };
        if (env is not null)
        {
            request.Env.Add(env);
        }

        return await SendAsync(new FrontgateToDroneMessage { RunCommand = request });
    }

    public async Task<DroneResponse> InstallAsync(string taskId, string version, byte[] archive) =>
        await SendAsync(new FrontgateToDroneMessage
        {
            InstallFiles = new InstallFilesRequest { NodeId = NodeId, TaskId = taskId, Version = version, Archive = ByteString.CopyFrom(archive) },
        });

    public async Task<NodeStatus> StatusAsync() =>
        (await SendAsync(new FrontgateToDroneMessage { GetStatus = new GetStatusRequest { NodeId = NodeId } })).Status;

    public Task<IReadOnlyList<DroneMessage>> ResultsAsync(string taskId, int count = 1, double seconds = 15) =>
        World.Messages.WaitForAsync(m => m.CommandResult?.TaskId == taskId, count, seconds);

    public async ValueTask DisposeAsync()
    {
        await StopDroneAsync();
        await StopFrontgateAsync();
        World.Dispose();
        _dir.Dispose();
    }
}

/// <summary>Builds gzip tars in memory, hostile ones included.</summary>
internal static class Archives
{
    public const UnixFileMode Executable = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
        | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute;

    public const UnixFileMode Regular = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead;

    public static TarEntry File(string name, string content, UnixFileMode mode = Regular) =>
        new PaxTarEntry(TarEntryType.RegularFile, name) { DataStream = new MemoryStream(Encoding.UTF8.GetBytes(content)), Mode = mode };

    public static TarEntry Script(string name, string body) => File(name, "#!/bin/sh\n" + body + "\n", Executable);

    public static TarEntry Symlink(string name, string target) => new PaxTarEntry(TarEntryType.SymbolicLink, name) { LinkName = target };

    public static byte[] Create(params TarEntry[] entries)
    {
        using var buffer = new MemoryStream();
        using (var gzip = new GZipStream(buffer, CompressionLevel.Fastest, leaveOpen: true))
        using (var tar = new TarWriter(gzip, TarEntryFormat.Pax, leaveOpen: true))
        {
            foreach (var entry in entries)
            {
                tar.WriteEntry(entry);
            }
        }

        return buffer.ToArray();
    }
}
