using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Pitrix.Frontgate.Tests;

/// <summary>
/// A real etcd for the etcd backend's tests: <c>PITRIX_TEST_ETCD</c> when set (client URLs), otherwise
/// <c>/usr/bin/etcd</c> started here in a temporary directory on free 127.0.0.1 ports and killed by its
/// process id afterwards. Each test uses its own key prefix. Without either the tests fail, saying so.
/// </summary>
public sealed class EtcdFixture : IDisposable
{
    private const string Binary = "/usr/bin/etcd";
    private readonly Process? _process;
    private readonly string? _directory;

    public EtcdFixture()
    {
        var given = Environment.GetEnvironmentVariable("PITRIX_TEST_ETCD");
        if (!string.IsNullOrWhiteSpace(given))
        {
            Endpoints = given;
            return;
        }

        if (!File.Exists(Binary))
        {
            throw new InvalidOperationException($"These tests need etcd: install it (apt-get install etcd-server puts it at {Binary}) or set PITRIX_TEST_ETCD to its client URL.");
        }

        _directory = Directory.CreateTempSubdirectory("pitrix-etcd-").FullName;
        var clientPort = FreePort();
        var peerPort = FreePort();
        Endpoints = $"http://127.0.0.1:{clientPort}";
        var start = new ProcessStartInfo(Binary)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[]
        {
            "--name", "pitrix-test",
            "--data-dir", Path.Combine(_directory, "data"),
            "--listen-client-urls", Endpoints,
            "--advertise-client-urls", Endpoints,
            "--listen-peer-urls", $"http://127.0.0.1:{peerPort}",
            "--initial-advertise-peer-urls", $"http://127.0.0.1:{peerPort}",
            "--initial-cluster", $"pitrix-test=http://127.0.0.1:{peerPort}",
        })
        {
            start.ArgumentList.Add(argument);
        }

        _process = Process.Start(start) ?? throw new InvalidOperationException("etcd did not start.");
        _process.OutputDataReceived += (_, _) => { };
        _process.ErrorDataReceived += (_, _) => { };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        WaitUntilServing(clientPort);
    }

    /// <summary>The client URL(s), for <c>Frontgate:Metadata:Etcd:Endpoints</c>.</summary>
    public string Endpoints { get; }

    public void Dispose()
    {
        if (_process is not null)
        {
            if (!_process.HasExited)
            {
                _process.Kill();
                _process.WaitForExit(10_000);
            }

            _process.Dispose();
        }

        if (_directory is not null)
        {
            Directory.Delete(_directory, recursive: true);
        }
    }

    private void WaitUntilServing(int port)
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (DateTime.UtcNow < deadline)
        {
            if (_process!.HasExited)
            {
                throw new InvalidOperationException($"etcd exited with code {_process.ExitCode} before serving.");
            }

            try
            {
                using var probe = new TcpClient();
                probe.Connect(IPAddress.Loopback, port);
                return;
            }
            catch (SocketException)
            {
                // Not up yet.
            }

            Thread.Sleep(100);
        }

        throw new InvalidOperationException("etcd did not become healthy within 20 s.");
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
