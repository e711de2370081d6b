using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using System.Text;

namespace Pitrix.Providers.Local;

/// <summary>What <c>/proc/&lt;pid&gt;/stat</c> says of a process that this provider needs.</summary>
/// <param name="State">The state letter: <c>R</c>, <c>S</c>, <c>D</c>, <c>T</c>, <c>Z</c> (zombie)…</param>
/// <param name="Session">The session id: a process that leads its own session has its pid here.</param>
/// <param name="StartTime">Clock ticks after boot when it started; with the pid, it names one process.</param>
internal sealed record ProcStat(char State, int Session, long StartTime)
{
    /// <summary>A zombie or dead process has exited; it only waits for its parent to reap it.</summary>
    public bool IsZombie => State is 'Z' or 'X' or 'x';
}

/// <summary>Linux process look-ups through <c>/proc</c>, and signals that cannot reach a reused pid.</summary>
[SupportedOSPlatform("linux")]
internal static partial class ProcFs
{
    public const int SigKill = 9;

    public const int SigTerm = 15;

    /// <summary>The process's stat, or <c>null</c> when there is no such process.</summary>
    public static ProcStat? ReadStat(int pid)
    {
        string text;
        try
        {
            text = File.ReadAllText($"/proc/{pid}/stat");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }

        // The command name (field 2) is in parentheses and may hold spaces and parentheses itself.
        var fields = text[(text.LastIndexOf(')') + 2)..].Split(' ');
        return fields.Length > 19 && int.TryParse(fields[3], out var session) && long.TryParse(fields[19], out var startTime)
            ? new ProcStat(fields[0][0], session, startTime)
            : null;
    }

    /// <summary>
    /// Every live process (not this one, not a zombie) whose initial environment holds exactly the entry
    /// <paramref name="entry"/> (<c>NAME=value</c>). Processes whose environment cannot be read are not ours.
    /// </summary>
    public static IReadOnlyList<LocalProcessHandle> FindByEnvironment(string entry)
    {
        var wanted = Encoding.UTF8.GetBytes(entry);
        var found = new List<LocalProcessHandle>();
        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(directory), out var pid) || pid == Environment.ProcessId)
            {
                continue;
            }

            byte[] environment;
            try
            {
                environment = File.ReadAllBytes($"/proc/{pid}/environ");
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                continue;
            }

            if (HasEntry(environment, wanted) && ReadStat(pid) is { IsZombie: false } stat)
            {
                found.Add(new LocalProcessHandle(pid, stat.StartTime));
            }
        }

        return found;
    }

    /// <summary>
    /// Sends <paramref name="signal"/> to the process, only if it still is the one <paramref name="process"/>
    /// names: through a pidfd opened before its start time is checked again, so a pid freed and reused in
    /// between is never signalled. Returns false when the process is gone.
    /// </summary>
    public static bool Signal(LocalProcessHandle process, int signal)
    {
        int pidfd;
        try
        {
            pidfd = PidfdOpen(process.Pid, 0);
        }
        catch (EntryPointNotFoundException)
        {
            // A C library without pidfd_open (glibc before 2.36): a short window of pid reuse remains.
            return ReadStat(process.Pid)?.StartTime == process.StartTime && Kill(process.Pid, signal) == 0;
        }

        if (pidfd < 0)
        {
            return false;
        }

        try
        {
            return ReadStat(process.Pid)?.StartTime == process.StartTime && PidfdSendSignal(pidfd, signal, 0, 0) == 0;
        }
        finally
        {
            _ = Close(pidfd);
        }
    }

    private static bool HasEntry(ReadOnlySpan<byte> environment, ReadOnlySpan<byte> entry)
    {
        while (!environment.IsEmpty)
        {
            var end = environment.IndexOf((byte)0);
            var current = end < 0 ? environment : environment[..end];
            if (current.SequenceEqual(entry))
            {
                return true;
            }

            environment = end < 0 ? [] : environment[(end + 1)..];
        }

        return false;
    }

    [LibraryImport("libc", EntryPoint = "pidfd_open", SetLastError = true)]
    private static partial int PidfdOpen(int pid, uint flags);

    [LibraryImport("libc", EntryPoint = "pidfd_send_signal", SetLastError = true)]
    private static partial int PidfdSendSignal(int pidfd, int signal, nint info, uint flags);

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    private static partial int Close(int fd);
}
