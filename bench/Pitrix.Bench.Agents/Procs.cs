using System.Globalization;
using System.Text;

namespace Pitrix.Bench.Agents;

/// <summary>One process's memory and CPU as /proc shows them.</summary>
/// <param name="Pid">The process.</param>
/// <param name="RssKib">VmRSS: resident pages, shared library pages included.</param>
/// <param name="AnonKib">RssAnon: private heap and stacks.</param>
/// <param name="PssKib">Pss from smaps_rollup: resident pages with shared ones divided among their sharers (sums to real use).</param>
/// <param name="CpuTicks">utime + stime, in clock ticks.</param>
public sealed record ProcSample(int Pid, long RssKib, long AnonKib, long PssKib, long CpuTicks);

/// <summary>Reads /proc: the processes of a local instance (by the <c>PITRIX_LOCAL_INSTANCE</c> marker in their environment), their memory, load.</summary>
public static class Procs
{
    /// <summary>Clock ticks per second of /proc/&lt;pid&gt;/stat (USER_HZ, 100 on Linux x86-64 and arm64).</summary>
    public const int TicksPerSecond = 100;

    /// <summary>The variable the local runtime gives every process of an instance (LocalCloud.InstanceMarkerVariable, which is Linux-only to the analyzer).</summary>
    public const string InstanceMarker = "PITRIX_LOCAL_INSTANCE";

    public static string LoadAverage() => string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3));

    public static double MemAvailableGib()
    {
        foreach (var line in File.ReadLines("/proc/meminfo"))
        {
            if (line.StartsWith("MemAvailable:", StringComparison.Ordinal))
            {
                return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) / 1024.0 / 1024.0;
            }
        }

        return double.NaN;
    }

    /// <summary>Every pid whose environment holds one of the markers, by marker.</summary>
    public static Dictionary<string, List<int>> ByEnvironment(IEnumerable<string> markers)
    {
        var wanted = markers.Select(m => (Marker: m, Bytes: Encoding.ASCII.GetBytes(m + "\0"))).ToList();
        var found = wanted.ToDictionary(w => w.Marker, _ => new List<int>(), StringComparer.Ordinal);
        foreach (var pid in AllPids())
        {
            var environment = TryReadBytes($"/proc/{pid}/environ");
            if (environment is null)
            {
                continue;
            }

            foreach (var (marker, bytes) in wanted)
            {
                if (environment.AsSpan().IndexOf(bytes) >= 0)
                {
                    found[marker].Add(pid);
                }
            }
        }

        return found;
    }

    /// <summary>Processes whose environment or command line mentions <paramref name="text"/> (the benchmark's data directory).</summary>
    public static List<int> Mentioning(string text)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        var self = Environment.ProcessId;
        var found = new List<int>();
        foreach (var pid in AllPids().Where(p => p != self))
        {
            var environment = TryReadBytes($"/proc/{pid}/environ");
            var commandLine = TryReadBytes($"/proc/{pid}/cmdline");
            if ((environment is not null && environment.AsSpan().IndexOf(bytes) >= 0) || (commandLine is not null && commandLine.AsSpan().IndexOf(bytes) >= 0))
            {
                found.Add(pid);
            }
        }

        return found;
    }

    public static string CommandLine(int pid) => TryReadBytes($"/proc/{pid}/cmdline") is { } bytes ? Encoding.UTF8.GetString(bytes).Replace('\0', ' ').Trim() : "";

    public static ProcSample? Sample(int pid)
    {
        try
        {
            long rss = 0, anon = 0, pss = 0;
            foreach (var line in File.ReadLines($"/proc/{pid}/status"))
            {
                if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                {
                    rss = Kib(line);
                }
                else if (line.StartsWith("RssAnon:", StringComparison.Ordinal))
                {
                    anon = Kib(line);
                }
            }

            foreach (var line in File.ReadLines($"/proc/{pid}/smaps_rollup"))
            {
                if (line.StartsWith("Pss:", StringComparison.Ordinal))
                {
                    pss = Kib(line);
                }
            }

            // Fields after the command name (which may hold spaces) start after the last ')'; utime and stime are fields 14 and 15.
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            var ticks = long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
            return new ProcSample(pid, rss, anon, pss, ticks);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    private static long Kib(string line) => long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);

    private static IEnumerable<int> AllPids()
    {
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
            {
                yield return pid;
            }
        }
    }

    private static byte[]? TryReadBytes(string path)
    {
        try
        {
            return File.ReadAllBytes(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Gone, or not ours to read.
            return null;
        }
    }
}
