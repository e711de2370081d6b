using System.Globalization;

namespace Pitrix.Bench.Agents;

/// <summary>Percentiles by nearest rank, and the benchmark's number formatting.</summary>
public static class Stats
{
    public static double Percentile(IReadOnlyCollection<double> samples, double percentile)
    {
        if (samples.Count == 0)
        {
            return double.NaN;
        }

        var sorted = samples.Order().ToArray();
        var rank = (int)Math.Ceiling(percentile / 100.0 * sorted.Length);
        return sorted[Math.Clamp(rank - 1, 0, sorted.Length - 1)];
    }

    /// <summary>"p50 / p90 / p99 / max" of the samples, in ms.</summary>
    public static string Summary(IReadOnlyCollection<double> samples) =>
        Invariant($"n={samples.Count} p50={Percentile(samples, 50):0.0} p90={Percentile(samples, 90):0.0} p99={Percentile(samples, 99):0.0} max={(samples.Count == 0 ? double.NaN : samples.Max()):0.0} ms");

    public static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);

    public static double Milliseconds(long fromTimestamp) => System.Diagnostics.Stopwatch.GetElapsedTime(fromTimestamp).TotalMilliseconds;
}
