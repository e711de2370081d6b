using System.Net.Sockets;
using System.Runtime.ExceptionServices;
using System.Runtime.InteropServices;
using System.Runtime.Versioning;

namespace Pitrix.Agent;

/// <summary>
/// Sockets in another Linux network namespace: a socket belongs for its whole life to the namespace of the thread
/// that made it, so a process on the host can listen or connect inside a namespace while the rest of it stays on
/// the host. The frontgate of a network of namespaces listens for drones this way and dials Pilot from the host.
/// </summary>
[SupportedOSPlatform("linux")]
public static partial class NetworkNamespace
{
    private const int CloneNewNet = 0x40000000;

    /// <summary>
    /// Runs <paramref name="make"/> on a new thread that has joined the network namespace at
    /// <paramref name="namespacePath"/> (such as <c>/run/netns/NAME</c>) and returns what it made; no other thread
    /// changes namespace. Needs CAP_SYS_ADMIN (root).
    /// </summary>
    /// <exception cref="IOException">The namespace does not exist or cannot be joined; the message says which.</exception>
    public static T Run<T>(string namespacePath, Func<T> make)
    {
        T result = default!;
        ExceptionDispatchInfo? failure = null;
        var thread = new Thread(() =>
        {
            try
            {
                using var handle = File.OpenHandle(namespacePath, FileMode.Open, FileAccess.Read);
                if (SetNs(handle.DangerousGetHandle().ToInt32(), CloneNewNet) != 0)
                {
                    throw new IOException($"Could not join the network namespace {namespacePath}: {Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError())}.");
                }

                result = make();
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or SocketException)
            {
                failure = ExceptionDispatchInfo.Capture(e);
            }
        })
        {
            IsBackground = true,
            Name = "pitrix-netns",
        };
        thread.Start();
        thread.Join();
        failure?.Throw();
        return result;
    }

    /// <summary>A socket made inside the namespace at <paramref name="namespacePath"/>, to bind or connect anywhere in it.</summary>
    public static Socket CreateSocket(string namespacePath, AddressFamily family, SocketType type, ProtocolType protocol) =>
        Run(namespacePath, () => new Socket(family, type, protocol));

    [LibraryImport("libc", EntryPoint = "setns", SetLastError = true)]
    private static partial int SetNs(int fd, int nsType);
}
