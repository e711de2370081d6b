using System.Globalization;
using System.Threading.Channels;
using Google.Protobuf;
using Pitrix.Agent.Protocol.V1;

namespace Pitrix.Frontgate.Pilot;

/// <summary>
/// Reports from drones (command results, node health) on their way to Pilot, kept on disk in
/// <c>&lt;data dir&gt;/outbox/</c>, one file per report named by its sequence number, until the Pilot
/// stream has carried them. A report is written to disk (and flushed) before anything is sent, so a
/// frontgate restart or a Pilot outage loses none; they are sent in the order they arrived. Delivery is
/// at least once: Pilot dedupes by node and task.
/// </summary>
public sealed class ReportOutbox
{
    private const string Extension = ".report";
    private readonly string _directory;
    private readonly Lock _gate = new();
    private readonly SortedDictionary<long, FrontgateMessage> _pending = [];
    private readonly Channel<bool> _added = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
    private long _lastSequence;

    private ReportOutbox(string directory) => _directory = directory;

    /// <summary>How many reports wait for Pilot.</summary>
    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _pending.Count;
            }
        }
    }

    /// <summary>Opens the outbox in <paramref name="directory"/>, loading the reports a previous run left.</summary>
    public static ReportOutbox Open(string directory)
    {
        Directory.CreateDirectory(directory);
        var outbox = new ReportOutbox(directory);
        foreach (var file in Directory.EnumerateFiles(directory, "*" + Extension))
        {
            if (!long.TryParse(Path.GetFileNameWithoutExtension(file), NumberStyles.None, CultureInfo.InvariantCulture, out var sequence))
            {
                continue;
            }

            try
            {
                outbox._pending[sequence] = FrontgateMessage.Parser.ParseFrom(File.ReadAllBytes(file));
                outbox._lastSequence = Math.Max(outbox._lastSequence, sequence);
            }
            catch (InvalidProtocolBufferException)
            {
                // A report torn by a crash while it was written was never acknowledged to anyone; drop it.
                File.Delete(file);
            }
        }

        foreach (var temporary in Directory.EnumerateFiles(directory, "*.tmp"))
        {
            File.Delete(temporary);
        }

        return outbox;
    }

    /// <summary>Keeps <paramref name="report"/> on disk and queues it; returns its sequence number.</summary>
    public long Append(FrontgateMessage report)
    {
        lock (_gate)
        {
            var sequence = ++_lastSequence;
            var path = PathOf(sequence);
            var temporary = path + ".tmp";
            using (var stream = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None))
            {
                report.WriteTo(stream);
                stream.Flush(flushToDisk: true);
            }

            File.Move(temporary, path);
            _pending[sequence] = report;
            _added.Writer.TryWrite(true);
            return sequence;
        }
    }

    /// <summary>Up to <paramref name="max"/> queued reports after <paramref name="sequence"/>, oldest first.</summary>
    public IReadOnlyList<(long Sequence, FrontgateMessage Report)> ReadAfter(long sequence, int max)
    {
        lock (_gate)
        {
            return [.. _pending.Where(p => p.Key > sequence).Take(max).Select(p => (p.Key, p.Value))];
        }
    }

    /// <summary>Forgets a report Pilot has received.</summary>
    public void Remove(long sequence)
    {
        lock (_gate)
        {
            if (_pending.Remove(sequence))
            {
                File.Delete(PathOf(sequence));
            }
        }
    }

    /// <summary>Completes when a report was appended since the last call (at once if one was), or after <paramref name="timeout"/>.</summary>
    public async Task WaitForAppendAsync(TimeSpan timeout, TimeProvider time, CancellationToken cancellationToken)
    {
        using var timeoutSource = new CancellationTokenSource(timeout, time);
        using var timer = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeoutSource.Token);
        try
        {
            await _added.Reader.ReadAsync(timer.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            // The timeout: the caller has in-flight reports to confirm.
        }
    }

    private string PathOf(long sequence) => Path.Combine(_directory, sequence.ToString("D19", CultureInfo.InvariantCulture) + Extension);
}
