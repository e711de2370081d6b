using System.Diagnostics;
using System.Runtime.Versioning;
using Pitrix.Core.Cloud;

namespace Pitrix.Providers.Local;

/// <summary>
/// The default <see cref="IInstanceProcessLauncher"/>: an instance's agent runs on the host (its network,
/// its file system) in a session of its own (<c>setsid</c>), so it outlives the server, with standard input
/// from <c>/dev/null</c> and its output appended to the log. Its environment is a clean one, as on a fresh
/// machine, not the server's: a setting such as <c>ASPNETCORE_URLS</c> meant for the server must not make an
/// agent bind the server's port. The agent gets <c>PATH</c>, <c>HOME</c>, <c>USER</c>, <c>LOGNAME</c>,
/// <c>LANG</c>, <c>LC_ALL</c>, <c>TZ</c>, <c>TMPDIR</c> and <c>DOTNET_ROOT*</c> from the server, and the
/// request's variables.
/// </summary>
[SupportedOSPlatform("linux")]
public sealed class SessionProcessLauncher(TimeProvider? timeProvider = null) : IInstanceProcessLauncher
{
    /// <summary>How long processes may take to vanish after SIGKILL before stopping is reported as failed.</summary>
    private static readonly TimeSpan KillTimeout = TimeSpan.FromSeconds(30);

    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(50);

    private static readonly string[] SetsidPaths = ["/usr/bin/setsid", "/bin/setsid"];

    private static readonly string[] NsenterPaths = ["/usr/bin/nsenter", "/bin/nsenter"];

    private static readonly string[] InheritedVariables = ["PATH", "HOME", "USER", "LOGNAME", "LANG", "LC_ALL", "TZ", "TMPDIR"];

    /// <summary>
    /// Run by <c>/bin/sh</c> with the log path and then the command as positional parameters, so no path or
    /// argument is ever parsed by the shell: it only redirects and replaces itself with the agent (same pid).
    /// </summary>
    private const string LaunchScript = "log=$1; shift; exec \"$@\" >>\"$log\" 2>&1 </dev/null";

    private readonly TimeProvider _time = timeProvider ?? TimeProvider.System;

    public LocalProcessHandle Launch(LocalLaunchRequest request)
    {
        var setsid = SetsidPaths.FirstOrDefault(File.Exists)
            ?? throw CloudException.InvalidState("The local runtime needs setsid (util-linux) to start agents; neither /usr/bin/setsid nor /bin/setsid exists.");
        string? nsenter = null;
        if (request.NetworkNamespace is not null)
        {
            nsenter = NsenterPaths.FirstOrDefault(File.Exists)
                ?? throw CloudException.InvalidState("The local runtime needs nsenter (util-linux) to start agents in network namespaces; neither /usr/bin/nsenter nor /bin/nsenter exists.");
        }

        var start = new ProcessStartInfo(nsenter ?? setsid)
        {
            UseShellExecute = false,
            WorkingDirectory = request.WorkingDirectory,
        };

        // nsenter enters the namespace and execs setsid in place, as setsid execs the shell and the shell the
        // agent, so the pid started is the agent's.
        if (nsenter is not null)
        {
            start.ArgumentList.Add("--net=" + request.NetworkNamespace);
            start.ArgumentList.Add("--");
            start.ArgumentList.Add(setsid);
        }

        // setsid execs in place when its caller leads no process group (so the pid is the agent's); --wait
        // keeps it, should it have to fork, alive exactly as long as the agent, so the pid still tells.
        foreach (var argument in new[] { "--wait", "/bin/sh", "-c", LaunchScript, "pitrix-local-launch", request.LogPath, request.Command.FileName })
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var argument in request.Command.Prefix.Concat(request.Arguments))
        {
            start.ArgumentList.Add(argument);
        }

        var inherited = start.Environment
            .Where(v => v.Value is not null && (InheritedVariables.Contains(v.Key, StringComparer.Ordinal) || v.Key.StartsWith("DOTNET_ROOT", StringComparison.Ordinal)))
            .Select(v => KeyValuePair.Create(v.Key, v.Value!))
            .ToList();
        start.Environment.Clear();
        foreach (var (name, value) in inherited.Concat(request.Environment))
        {
            start.Environment[name] = value;
        }

        try
        {
            using var process = Process.Start(start) ?? throw CloudException.Unavailable($"Could not start the agent of instance '{request.InstanceId}'.");
            return new LocalProcessHandle(process.Id, ProcFs.ReadStat(process.Id)?.StartTime ?? -1);
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw CloudException.Unavailable($"Could not start the agent of instance '{request.InstanceId}': {e.Message}", e);
        }
    }

    public bool IsRunning(LocalProcessHandle handle) =>
        ProcFs.ReadStat(handle.Pid) is { IsZombie: false } stat && stat.StartTime == handle.StartTime;

    public IReadOnlyList<LocalProcessHandle> FindAll(string instanceId) => ProcFs.FindByEnvironment(Marker(instanceId));

    public async Task StopAllAsync(string instanceId, TimeSpan gracePeriod, CancellationToken cancellationToken)
    {
        var marker = Marker(instanceId);
        var graceEnds = _time.GetUtcNow() + gracePeriod;
        var terminated = new HashSet<LocalProcessHandle>();
        while (true)
        {
            // A process forked meanwhile carries the marker too: each round signals the newcomers.
            var left = ProcFs.FindByEnvironment(marker);
            if (left.Count == 0)
            {
                return;
            }

            if (_time.GetUtcNow() >= graceEnds)
            {
                break;
            }

            foreach (var process in left.Where(terminated.Add))
            {
                ProcFs.Signal(process, ProcFs.SigTerm);
            }

            await Task.Delay(PollInterval, _time, cancellationToken);
        }

        var killEnds = _time.GetUtcNow() + KillTimeout;
        while (ProcFs.FindByEnvironment(marker) is { Count: > 0 } survivors)
        {
            if (_time.GetUtcNow() >= killEnds)
            {
                throw CloudException.Unavailable($"Processes of instance '{instanceId}' outlived SIGKILL for {KillTimeout.TotalSeconds} s: {string.Join(", ", survivors.Select(p => p.Pid))}.");
            }

            foreach (var process in survivors)
            {
                ProcFs.Signal(process, ProcFs.SigKill);
            }

            await Task.Delay(PollInterval, _time, cancellationToken);
        }
    }

    private static string Marker(string instanceId) => $"{LocalCloud.InstanceMarkerVariable}={instanceId}";
}
