using System.Diagnostics;
using Pitrix.Core.Agents;

namespace Pitrix.Bench.Agents;

/// <summary>
/// One metadata change and its re-render on every node. <see cref="AllSeenMs"/> is when the poller saw the new value
/// in the last node's file (an upper bound: it adds up to one poll interval and the reads); <see cref="AllWrittenMs"/>
/// is the last file's modification time against the wall clock at the put (a lower bound: the kernel stamps files
/// with its coarse clock, up to one tick, 4 ms at HZ=250, behind).
/// </summary>
public sealed record RenderSample(double PutMs, double FirstSeenMs, double AllSeenMs, double AllWrittenMs);

public static class RenderProbe
{
    public const string ValueKey = "env/bench_node/value";

    /// <summary>Where each node's rendered value file is: <c>{data}/local/{zone}/instances/{id}/root/etc/agent-bench/value</c>.</summary>
    public static List<string> Files(string dataDirectory, BenchCluster cluster) =>
        cluster.Nodes.Select(n => Path.Combine(dataDirectory, "local", cluster.Zone, "instances", n.InstanceId, "root", "etc", "agent-bench", "value")).ToList();

    /// <summary>Waits until every file holds <paramref name="value"/> (after create, before measuring).</summary>
    public static async Task WaitForAsync(IReadOnlyList<string> files, string value, TimeSpan timeout)
    {
        var started = Stopwatch.GetTimestamp();
        while (files.Any(f => Read(f) != value))
        {
            if (Stopwatch.GetElapsedTime(started) > timeout)
            {
                throw new TimeoutException($"{files.Count(f => Read(f) != value)} of {files.Count} nodes never rendered '{value}'.");
            }

            await Task.Delay(50);
        }
    }

    /// <summary>Puts the new value through Pilot and polls the files until every node rendered it.</summary>
    public static async Task<RenderSample> ChangeAsync(IAgentNetwork agents, string frontgateId, BenchCluster cluster, IReadOnlyList<string> files, string value, TimeSpan poll, TimeSpan timeout)
    {
        var wallAtPut = DateTime.UtcNow;
        var started = Stopwatch.GetTimestamp();
        var error = await agents.PutMetadataAsync(frontgateId, cluster.Id, new Dictionary<string, string> { [ValueKey] = value }, CancellationToken.None);
        var putMs = Stats.Milliseconds(started);
        BenchWorld.Expect(error is null, $"put: {error?.Code} {error?.Message}");
        var pending = Enumerable.Range(0, files.Count).ToList();
        double firstSeen = double.NaN, allSeen = 0, allWritten = 0;
        while (true)
        {
            for (var i = pending.Count - 1; i >= 0; i--)
            {
                var file = files[pending[i]];
                if (Read(file) != value)
                {
                    continue;
                }

                var seen = Stats.Milliseconds(started);
                firstSeen = double.IsNaN(firstSeen) ? seen : firstSeen;
                allSeen = Math.Max(allSeen, seen);
                allWritten = Math.Max(allWritten, (File.GetLastWriteTimeUtc(file) - wallAtPut).TotalMilliseconds);
                pending.RemoveAt(i);
            }

            if (pending.Count == 0)
            {
                return new RenderSample(putMs, firstSeen, allSeen, allWritten);
            }

            if (Stopwatch.GetElapsedTime(started) > timeout)
            {
                throw new TimeoutException($"{pending.Count} of {files.Count} nodes did not render '{value}' within {timeout}.");
            }

            await Task.Delay(poll);
        }
    }

    private static string? Read(string file)
    {
        try
        {
            return File.ReadAllText(file);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
