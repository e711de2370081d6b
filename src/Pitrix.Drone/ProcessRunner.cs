using System.ComponentModel;
using System.Diagnostics;

namespace Pitrix.Drone;

/// <summary>How one process run ended.</summary>
public enum ProcessOutcome
{
    /// <summary>The process exited with code 0.</summary>
    Succeeded,

    /// <summary>The process exited with a non-zero code.</summary>
    Failed,

    /// <summary>The process outlived its timeout and its whole tree was killed.</summary>
    TimedOut,

    /// <summary>The command could not be started: bad syntax, missing executable, not executable.</summary>
    NotStarted,

    /// <summary>The caller cancelled the run and the process tree was killed.</summary>
    Cancelled,
}

/// <summary>What a process run produced: outcome, exit code, duration and bounded tails of its output.</summary>
public sealed record ProcessRunResult
{
    public required ProcessOutcome Outcome { get; init; }

    /// <summary>The exit code, or null when the process did not start or was killed.</summary>
    public int? ExitCode { get; init; }

    public TimeSpan Duration { get; init; }

    /// <summary>The last bytes of standard output, as UTF-8 text.</summary>
    public string StdoutTail { get; init; } = "";

    /// <summary>The last bytes of standard error, as UTF-8 text.</summary>
    public string StderrTail { get; init; } = "";

    /// <summary>True when standard output was longer than the tail kept.</summary>
    public bool StdoutTruncated { get; init; }

    /// <summary>True when standard error was longer than the tail kept.</summary>
    public bool StderrTruncated { get; init; }

    /// <summary>Why the command did not start or did not finish, for humans.</summary>
    public string? Error { get; init; }
}

/// <summary>
/// Runs one process from an argv with extra environment variables, no shell and no standard input, killing the whole
/// process tree on timeout or cancellation.
/// </summary>
public static class ProcessRunner
{
    /// <summary>Linux ETXTBSY.</summary>
    private const int TextFileBusy = 26;

    /// <summary>How long to wait for output pipes after the process exited; a daemonised grandchild may hold them open.</summary>
    private static readonly TimeSpan DrainGrace = TimeSpan.FromSeconds(2);

    public static async Task<ProcessRunResult> RunAsync(
        IReadOnlyList<string> argv,
        IReadOnlyDictionary<string, string>? environment,
        string? workingDirectory,
        TimeSpan timeout,
        int tailBytes,
        TimeProvider timeProvider,
        CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfZero(argv.Count);
        var startInfo = new ProcessStartInfo(argv[0])
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = workingDirectory ?? "",
        };
        foreach (var arg in argv.Skip(1))
        {
            startInfo.ArgumentList.Add(arg);
        }

        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            startInfo.Environment[key] = value;
        }

        var started = timeProvider.GetTimestamp();
        using var process = new Process { StartInfo = startInfo };
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                process.Start();
                break;
            }
            catch (Win32Exception ex) when (ex.NativeErrorCode == TextFileBusy && attempt < 5)
            {
                // ETXTBSY: a script just written is still open for writing in a child another thread forked
                // meanwhile (it holds the descriptor until its own exec). It clears within milliseconds.
                await Task.Delay(TimeSpan.FromMilliseconds(20 * attempt), cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is Win32Exception or InvalidOperationException or IOException)
            {
                return new ProcessRunResult { Outcome = ProcessOutcome.NotStarted, Error = $"cannot start '{argv[0]}': {ex.Message}" };
            }
        }

        process.StandardInput.Close();
        var stdout = new TailBuffer(tailBytes);
        var stderr = new TailBuffer(tailBytes);
        using var drainStop = new CancellationTokenSource();
        var readers = Task.WhenAll(
            DrainAsync(process.StandardOutput.BaseStream, stdout, drainStop.Token),
            DrainAsync(process.StandardError.BaseStream, stderr, drainStop.Token));

        using var timeoutSource = new CancellationTokenSource(timeout, timeProvider);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(timeoutSource.Token, cancellationToken);
        var outcome = ProcessOutcome.Succeeded;
        try
        {
            await process.WaitForExitAsync(linked.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            outcome = cancellationToken.IsCancellationRequested ? ProcessOutcome.Cancelled : ProcessOutcome.TimedOut;
            KillTree(process);
            await process.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false);
        }

        // Output still open after the grace belongs to an orphaned grandchild; stop reading it.
        drainStop.CancelAfter(DrainGrace);
        try
        {
            await readers.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }

        var exitCode = outcome == ProcessOutcome.Succeeded ? process.ExitCode : (int?)null;
        if (exitCode is not null and not 0)
        {
            outcome = ProcessOutcome.Failed;
        }

        return new ProcessRunResult
        {
            Outcome = outcome,
            ExitCode = exitCode,
            Duration = timeProvider.GetElapsedTime(started),
            StdoutTail = stdout.ToText(),
            StderrTail = stderr.ToText(),
            StdoutTruncated = stdout.Truncated,
            StderrTruncated = stderr.Truncated,
            Error = outcome switch
            {
                ProcessOutcome.TimedOut => $"timed out after {timeout.TotalSeconds:0.###} s; the process tree was killed",
                ProcessOutcome.Cancelled => "cancelled; the process tree was killed",
                ProcessOutcome.Failed => $"exited with code {exitCode}",
                _ => null,
            },
        };
    }

    private static void KillTree(Process process)
    {
        try
        {
            process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // It exited between the timeout and the kill.
        }
    }

    private static async Task DrainAsync(Stream stream, TailBuffer tail, CancellationToken cancellationToken)
    {
        var buffer = new byte[16 * 1024];
        while (true)
        {
            var read = await stream.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
            if (read == 0)
            {
                return;
            }

            tail.Write(buffer.AsSpan(0, read));
        }
    }
}
