using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Xunit;

namespace Pitrix.Testing;

/// <summary>
/// A real Kubernetes API server for tests: the kube-apiserver binary named by <c>PITRIX_KUBE_APISERVER</c>
/// (test.sh builds it once from Debian's kubernetes 1.20.2 source and caches it) with its own etcd
/// (<c>/usr/bin/etcd</c>), both on free 127.0.0.1 ports in a temporary directory, RBAC on, client certificates
/// from a CA made here. There is no kubelet and no controller manager: objects are stored and served, nothing
/// runs. Both processes are ended by their pid on dispose. Without the binary the tests fail, saying so.
/// </summary>
public sealed class KubeApiServer : IAsyncLifetime
{
    private const string EtcdBinary = "/usr/bin/etcd";

    private readonly string _directory = Directory.CreateTempSubdirectory("pitrix-kube-").FullName;
    private readonly List<Process> _processes = [];
    private X509Certificate2? _ca;
    private RSA? _caKey;

    /// <summary>The API server's URL, https://127.0.0.1:PORT.</summary>
    public string Url { get; private set; } = "";

    /// <summary>The PEM of the CA that signed the server's and every client's certificate.</summary>
    public string CaPem => _ca?.ExportCertificatePem() ?? throw new InvalidOperationException("Not started.");

    /// <summary>A kubeconfig for an administrator (group system:masters).</summary>
    public string AdminKubeconfig { get; private set; } = "";

    public async Task InitializeAsync()
    {
        var binary = Environment.GetEnvironmentVariable("PITRIX_KUBE_APISERVER");
        if (string.IsNullOrWhiteSpace(binary) || !File.Exists(binary))
        {
            throw new InvalidOperationException(
                "PITRIX_KUBE_APISERVER does not name a kube-apiserver binary. Run ./test.sh, which builds it once from Debian's kubernetes source (tests/provision/kube-apiserver.sh) and caches it, or set PITRIX_KUBE_APISERVER.");
        }

        if (!File.Exists(EtcdBinary))
        {
            throw new InvalidOperationException($"The API server needs etcd: install it (apt-get install etcd-server puts it at {EtcdBinary}).");
        }

        _caKey = RSA.Create(2048);
        var caRequest = new CertificateRequest("CN=pitrix-test-kubernetes-ca", _caKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        caRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        caRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        _ca = caRequest.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(2));

        var pki = Path.Combine(_directory, "pki");
        Directory.CreateDirectory(pki);
        await File.WriteAllTextAsync(Path.Combine(pki, "ca.crt"), CaPem);
        var (serverCert, serverKey) = Issue("kube-apiserver", [], server: true);
        await File.WriteAllTextAsync(Path.Combine(pki, "apiserver.crt"), serverCert);
        await File.WriteAllTextAsync(Path.Combine(pki, "apiserver.key"), serverKey);
        using var serviceAccountKey = RSA.Create(2048);
        await File.WriteAllTextAsync(Path.Combine(pki, "sa.key"), serviceAccountKey.ExportRSAPrivateKeyPem());
        await File.WriteAllTextAsync(Path.Combine(pki, "sa.pub"), serviceAccountKey.ExportSubjectPublicKeyInfoPem());

        var etcdPort = FreePort();
        var etcdPeerPort = FreePort();
        Start(EtcdBinary, "etcd.log",
            "--name", "pitrix-kube", "--data-dir", Path.Combine(_directory, "etcd"),
            "--listen-client-urls", $"http://127.0.0.1:{etcdPort}", "--advertise-client-urls", $"http://127.0.0.1:{etcdPort}",
            "--listen-peer-urls", $"http://127.0.0.1:{etcdPeerPort}", "--initial-advertise-peer-urls", $"http://127.0.0.1:{etcdPeerPort}",
            "--initial-cluster", $"pitrix-kube=http://127.0.0.1:{etcdPeerPort}");

        var port = FreePort();
        Url = $"https://127.0.0.1:{port}";
        Start(binary, "kube-apiserver.log",
            $"--etcd-servers=http://127.0.0.1:{etcdPort}",
            "--bind-address=127.0.0.1", $"--secure-port={port}", "--insecure-port=0", "--advertise-address=127.0.0.1",
            $"--tls-cert-file={pki}/apiserver.crt", $"--tls-private-key-file={pki}/apiserver.key", $"--cert-dir={pki}",
            $"--client-ca-file={pki}/ca.crt", "--authorization-mode=RBAC",
            $"--service-account-key-file={pki}/sa.pub", $"--service-account-signing-key-file={pki}/sa.key",
            "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
            "--service-cluster-ip-range=10.96.0.0/24", "--enable-priority-and-fairness=false", "--profiling=false");

        AdminKubeconfig = KubeconfigFor("pitrix-admin", "system:masters");
        await WaitUntilReadyAsync();
    }

    /// <summary>
    /// A kubeconfig (context <c>test</c>, current) whose client certificate names <paramref name="user"/> in
    /// <paramref name="groups"/>, issued by this server's CA; RBAC decides what it may do.
    /// </summary>
    public string KubeconfigFor(string user, params string[] groups)
    {
        var (cert, key) = Issue(user, groups, server: false);
        return Kubeconfig(Url, CaPem, cert, key);
    }

    /// <summary>A kubeconfig with the given server, CA and client certificate (for tests of wrong ones).</summary>
    public static string Kubeconfig(string server, string caPem, string certificatePem, string keyPem) => $"""
        apiVersion: v1
        kind: Config
        clusters:
        - name: test
          cluster:
            server: {server}
            certificate-authority-data: {Base64(caPem)}
        users:
        - name: test
          user:
            client-certificate-data: {Base64(certificatePem)}
            client-key-data: {Base64(keyPem)}
        contexts:
        - name: test
          context:
            cluster: test
            user: test
        current-context: test
        """;

    /// <summary>A client certificate and key from a CA the server does not trust.</summary>
    public static (string Certificate, string Key) ForeignClientCertificate(string user)
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest($"CN={user}", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
        return (certificate.ExportCertificatePem(), key.ExportRSAPrivateKeyPem());
    }

    public async Task DisposeAsync()
    {
        foreach (var process in Enumerable.Reverse(_processes))
        {
            if (!process.HasExited)
            {
                process.Kill();
                await process.WaitForExitAsync();
            }

            process.Dispose();
        }

        _ca?.Dispose();
        _caKey?.Dispose();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
            // Left in /tmp; nothing runs from it any more.
        }
    }

    /// <summary>What the API server logged, for a failing test's message.</summary>
    public string Log() => File.Exists(Path.Combine(_directory, "kube-apiserver.log")) ? File.ReadAllText(Path.Combine(_directory, "kube-apiserver.log")) : "";

    private (string Certificate, string Key) Issue(string commonName, string[] organizations, bool server)
    {
        using var key = RSA.Create(2048);
        var subject = new X500DistinguishedNameBuilder();
        foreach (var organization in organizations)
        {
            subject.AddOrganizationName(organization);
        }

        subject.AddCommonName(commonName);
        var request = new CertificateRequest(subject.Build(), key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyEncipherment, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(
            [server ? new Oid("1.3.6.1.5.5.7.3.1") : new Oid("1.3.6.1.5.5.7.3.2")], false));
        if (server)
        {
            var names = new SubjectAlternativeNameBuilder();
            names.AddIpAddress(IPAddress.Loopback);
            names.AddDnsName("localhost");
            names.AddDnsName("kubernetes.default.svc");
            request.CertificateExtensions.Add(names.Build());
        }

        var serial = RandomNumberGenerator.GetBytes(16);
        serial[0] &= 0x7f;
        using var issued = request.Create(_ca!.SubjectName, X509SignatureGenerator.CreateForRSA(_caKey!, RSASignaturePadding.Pkcs1), DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1), serial);
        return (issued.ExportCertificatePem(), key.ExportRSAPrivateKeyPem());
    }

    private void Start(string fileName, string logName, params string[] arguments)
    {
        var log = Path.Combine(_directory, logName);
        var start = new ProcessStartInfo("/bin/sh") { UseShellExecute = false };

        // The shell only redirects and replaces itself (same pid); paths and arguments are positional parameters.
        foreach (var argument in new[] { "-c", "log=$1; shift; exec \"$@\" >>\"$log\" 2>&1 </dev/null", "pitrix-kube", log, fileName }.Concat(arguments))
        {
            start.ArgumentList.Add(argument);
        }

        _processes.Add(Process.Start(start) ?? throw new InvalidOperationException($"{fileName} did not start."));
    }

    private async Task WaitUntilReadyAsync()
    {
        var (cert, key) = Issue("pitrix-ready-probe", ["system:masters"], server: false);
        using var client = X509Certificate2.CreateFromPem(cert, key);
        using var handler = new HttpClientHandler
        {
            ClientCertificates = { X509CertificateLoader.LoadPkcs12(client.Export(X509ContentType.Pkcs12), null) },
            ServerCertificateCustomValidationCallback = (_, certificate, _, _) => certificate?.Issuer == _ca!.Subject,
        };
        using var http = new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(5) };
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(90);
        var last = "";
        while (DateTime.UtcNow < deadline)
        {
            if (_processes.FirstOrDefault(p => p.HasExited) is { } exited)
            {
                throw new InvalidOperationException($"{exited.StartInfo.ArgumentList[4]} exited with {exited.ExitCode}:\n{Tail(Log())}");
            }

            try
            {
                using var response = await http.GetAsync($"{Url}/readyz");
                last = $"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}";
                if (response.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException e)
            {
                last = e.Message;
            }
            catch (TaskCanceledException)
            {
                last = "timed out";
            }

            await Task.Delay(250);
        }

        throw new TimeoutException($"kube-apiserver at {Url} was not ready within 90 s (last: {last}):\n{Tail(Log())}");
    }

    private static string Tail(string text) => text.Length > 4000 ? text[^4000..] : text;

    private static string Base64(string pem) => Convert.ToBase64String(Encoding.UTF8.GetBytes(pem));

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
