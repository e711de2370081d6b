using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using Pitrix.Core.Cloud;

namespace Pitrix.Providers.Local;

/// <summary>
/// The lock on a local cloud's state: a semaphore per root for the callers of this process, then an exclusive
/// <c>flock</c> on <c>{root}/.lock</c> for every other process (another engine, a restarted server). The
/// kernel drops the <c>flock</c> of a process that dies, so a crash never leaves the state locked.
/// </summary>
[SupportedOSPlatform("linux")]
internal static partial class LocalStateLock
{
    private const int LockExclusive = 2;

    private const int LockNonBlocking = 4;

    /// <summary>EWOULDBLOCK (EAGAIN) on Linux, the errno .NET reports as the HResult of a file locked by another.</summary>
    private const int WouldBlock = 11;

    /// <summary>How long a caller waits for another process before the cloud is reported unavailable (retryable).</summary>
    private static readonly TimeSpan GiveUpAfter = TimeSpan.FromMinutes(2);

    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(10);

    private static readonly ConcurrentDictionary<string, SemaphoreSlim> Gates = new(StringComparer.Ordinal);

    public static async Task<Held> AcquireAsync(string root, TimeProvider time, CancellationToken cancellationToken)
    {
        var gate = Gates.GetOrAdd(root, _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync(cancellationToken);
        try
        {
            Directory.CreateDirectory(root);
            var path = Path.Combine(root, ".lock");
            var givesUpAt = time.GetUtcNow() + GiveUpAfter;

            // Non-blocking and polled: a blocking flock would hold a thread-pool thread and ignore cancellation.
            while (true)
            {
                if (TryLock(path) is { } stream)
                {
                    return new Held(gate, stream);
                }

                if (time.GetUtcNow() >= givesUpAt)
                {
                    throw CloudException.Unavailable($"The local cloud's state in '{root}' has been locked by another process for {GiveUpAfter.TotalMinutes} minutes.");
                }

                await Task.Delay(PollInterval, time, cancellationToken);
            }
        }
        catch
        {
            gate.Release();
            throw;
        }
    }

    /// <summary>
    /// The lock file, opened and locked, or <c>null</c> while another holds it. .NET itself takes a shared
    /// <c>flock</c> on every file it opens unless told otherwise, and an exclusive one for
    /// <see cref="FileShare.None"/> (failing with EWOULDBLOCK when held); the explicit <c>flock</c> keeps the lock
    /// exclusive when that emulation is switched off (<c>DOTNET_SYSTEM_IO_DISABLEFILELOCKING</c>). The file is
    /// opened close-on-exec, so an agent started under the lock never inherits it.
    /// </summary>
    private static FileStream? TryLock(string path)
    {
        FileStream stream;
        try
        {
            stream = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException e) when (e.HResult == WouldBlock)
        {
            return null;
        }

        if (Flock((int)stream.SafeFileHandle.DangerousGetHandle(), LockExclusive | LockNonBlocking) == 0)
        {
            return stream;
        }

        stream.Dispose();
        return null;
    }

    [LibraryImport("libc", EntryPoint = "flock", SetLastError = true)]
    private static partial int Flock(int fd, int operation);

    /// <summary>The held lock; disposing it closes the file (releasing the <c>flock</c>) and the semaphore.</summary>
    internal sealed class Held(SemaphoreSlim gate, FileStream stream) : IDisposable
    {
        public void Dispose()
        {
            stream.Dispose();
            gate.Release();
        }
    }
}
