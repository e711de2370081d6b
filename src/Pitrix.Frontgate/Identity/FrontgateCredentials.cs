using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Grpc.Core;
using Pitrix.Agent;
using Pitrix.Agent.Protocol.V1;

namespace Pitrix.Frontgate.Identity;

/// <summary>
/// The frontgate's own certificate (client and server authentication, naming <c>pitrix://frontgate/&lt;id&gt;</c>)
/// with the private key it generated, kept in <c>&lt;data dir&gt;/identity/</c> (files mode 0600) so later boots
/// reuse it instead of a join token that was already spent. <see cref="Current"/> changes when the certificate
/// is renewed; listeners and channels read it again for each new connection.
/// </summary>
public sealed class FrontgateCredentials : IDisposable
{
    /// <summary>File name of the certificate (PEM) in the identity directory.</summary>
    public const string CertificateFileName = "frontgate.crt";

    /// <summary>File name of the private key (PKCS#8 PEM) in the identity directory.</summary>
    public const string KeyFileName = "frontgate.key";

    private readonly string _directory;
    private readonly TimeProvider _time;
    private X509Certificate2 _current;

    private FrontgateCredentials(string directory, X509Certificate2 caCertificate, AgentIdentity identity, X509Certificate2 current, TimeProvider time)
    {
        _directory = directory;
        CaCertificate = caCertificate;
        Identity = identity;
        _current = current;
        _time = time;
    }

    /// <summary>The CA from the bootstrap file: the only certificate the frontgate trusts.</summary>
    public X509Certificate2 CaCertificate { get; }

    public AgentIdentity Identity { get; }

    /// <summary>The certificate in force, with its private key.</summary>
    public X509Certificate2 Current => Volatile.Read(ref _current);

    /// <summary>Whether the certificate was read from the data directory rather than enrolled on this boot.</summary>
    public bool WasReused { get; private init; }

    /// <summary>When the certificate in force should be renewed: half-way through its lifetime.</summary>
    public DateTimeOffset RenewAt
    {
        get
        {
            var certificate = Current;
            var notBefore = new DateTimeOffset(certificate.NotBefore.ToUniversalTime());
            var notAfter = new DateTimeOffset(certificate.NotAfter.ToUniversalTime());
            return notBefore + ((notAfter - notBefore) / 2);
        }
    }

    /// <summary>
    /// Loads the certificate kept in <paramref name="directory"/> when it is ours (our id, from our CA, still
    /// valid); otherwise enrolls with Pilot at <paramref name="pilotAddress"/> (trusting only <paramref name="caCertificate"/>), spending the join token,
    /// and keeps the result. Throws <see cref="RpcException"/> when Pilot refuses or cannot be reached.
    /// </summary>
    public static async Task<FrontgateCredentials> LoadOrEnrollAsync(
        string directory,
        AgentIdentity identity,
        X509Certificate2 caCertificate,
        Uri pilotAddress,
        string joinToken,
        TimeProvider time,
        CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(directory);
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }

        if (TryLoad(directory, identity, caCertificate, time) is { } stored)
        {
            return new FrontgateCredentials(directory, caCertificate, identity, stored, time) { WasReused = true };
        }

        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var channel = AgentTrust.CreateChannel(pilotAddress, caCertificate);
        var client = new Enrollment.EnrollmentClient(channel);
        var response = await client.EnrollAsync(new EnrollRequest { JoinToken = joinToken, CsrPem = AgentCredential.CreateSigningRequest(key) }, cancellationToken: cancellationToken);
        var certificate = Accept(response, key, identity, caCertificate, time);
        Save(directory, certificate);
        return new FrontgateCredentials(directory, caCertificate, identity, certificate, time);
    }

    /// <summary>Obtains a fresh certificate from Pilot with the current one, keeps it, and makes it current.</summary>
    public async Task RenewAsync(Uri pilotAddress, CancellationToken cancellationToken)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var channel = AgentTrust.CreateChannel(pilotAddress, CaCertificate, Current);
        var client = new Enrollment.EnrollmentClient(channel);
        var response = await client.RenewAsync(new RenewRequest { CsrPem = AgentCredential.CreateSigningRequest(key) }, cancellationToken: cancellationToken);
        var renewed = Accept(response, key, Identity, CaCertificate, _time);
        Save(_directory, renewed);
        // The previous certificate is not disposed: connections made with it may still be using it.
        Volatile.Write(ref _current, renewed);
    }

    public void Dispose()
    {
        Current.Dispose();
        CaCertificate.Dispose();
    }

    private static X509Certificate2? TryLoad(string directory, AgentIdentity identity, X509Certificate2 caCertificate, TimeProvider time)
    {
        var certificatePath = Path.Combine(directory, CertificateFileName);
        var keyPath = Path.Combine(directory, KeyFileName);
        if (!File.Exists(certificatePath) || !File.Exists(keyPath))
        {
            return null;
        }

        X509Certificate2 certificate;
        try
        {
            certificate = X509Certificate2.CreateFromPemFile(certificatePath, keyPath);
        }
        catch (CryptographicException)
        {
            return null;
        }

        if (AgentIdentity.FromCertificate(certificate) == identity
            && AgentTrust.IsIssuedByCa(certificate, caCertificate, AgentTrust.ClientAuthentication, time)
            && AgentTrust.IsIssuedByCa(certificate, caCertificate, AgentTrust.ServerAuthentication, time))
        {
            return certificate;
        }

        certificate.Dispose();
        return null;
    }

    private static X509Certificate2 Accept(EnrollResponse response, ECDsa key, AgentIdentity identity, X509Certificate2 caCertificate, TimeProvider time)
    {
        using var issued = X509Certificate2.CreateFromPem(response.CertificatePem);
        if (!AgentTrust.IsIssuedByCa(issued, caCertificate, AgentTrust.ClientAuthentication, time)
            || !AgentTrust.IsIssuedByCa(issued, caCertificate, AgentTrust.ServerAuthentication, time))
        {
            throw new InvalidOperationException("Pilot returned a certificate that does not chain to the bootstrap CA for client and server authentication.");
        }

        if (AgentIdentity.FromCertificate(issued) != identity)
        {
            throw new InvalidOperationException($"Pilot returned a certificate for another identity than {identity}.");
        }

        return issued.CopyWithPrivateKey(key);
    }

    private static void Save(string directory, X509Certificate2 certificate)
    {
        using var key = certificate.GetECDsaPrivateKey()
            ?? throw new InvalidOperationException("The frontgate certificate has no EC private key.");
        // The key is written first: a crash between the two leaves a key without its certificate, which the
        // next boot rejects, rather than a certificate whose key is lost.
        WriteSecret(Path.Combine(directory, KeyFileName), key.ExportPkcs8PrivateKeyPem());
        WriteSecret(Path.Combine(directory, CertificateFileName), certificate.ExportCertificatePem());
    }

    private static void WriteSecret(string path, string content)
    {
        var temporary = path + ".tmp";
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write, Share = FileShare.None };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        using (var stream = new FileStream(temporary, options))
        using (var writer = new StreamWriter(stream))
        {
            writer.Write(content);
            writer.Flush();
            stream.Flush(flushToDisk: true);
        }

        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(temporary, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }

        File.Move(temporary, path, overwrite: true);
    }
}
