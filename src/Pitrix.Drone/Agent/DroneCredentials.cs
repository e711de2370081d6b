using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Grpc.Net.Client;
using Pitrix.Agent;
using Pitrix.Agent.Protocol.V1;

namespace Pitrix.Drone.Agent;

/// <summary>When the drone's certificate was received and with which join token, kept beside it.</summary>
internal sealed record CredentialInfo(DateTimeOffset ReceivedAt, string JoinTokenHash);

/// <summary>
/// The drone's client certificate and key in its data directory (<c>node.pem</c>, mode 0600, both in one file so they
/// are replaced together): obtained
/// once by enrollment with the bootstrap's join token, reused after restarts, renewed at half its lifetime.
/// </summary>
internal sealed class DroneCredentials(string dataDirectory, X509Certificate2 caCertificate, AgentIdentity nodeIdentity, TimeProvider time)
{
    public const string CredentialFileName = "node.pem";

    private readonly string _pemPath = Path.Combine(dataDirectory, CredentialFileName);
    private readonly string _infoPath = Path.Combine(dataDirectory, "credential.json");

    /// <summary>The stored certificate with its key and when it was received, or null when the drone never enrolled.</summary>
    public (X509Certificate2 Certificate, CredentialInfo Info)? Load()
    {
        if (!File.Exists(_pemPath) || !File.Exists(_infoPath))
        {
            return null;
        }

        var info = JsonSerializer.Deserialize(File.ReadAllBytes(_infoPath), DroneStateJsonContext.Default.CredentialInfo)
            ?? throw new InvalidDataException($"'{_infoPath}' is empty.");
        var pem = File.ReadAllText(_pemPath);
        return (X509Certificate2.CreateFromPem(pem, pem), info);
    }

    /// <summary>Enrolls with the join token over a channel that presents no client certificate, and stores the result.</summary>
    public async Task<(X509Certificate2 Certificate, CredentialInfo Info)> EnrollAsync(GrpcChannel channel, string joinToken, CancellationToken cancellationToken)
    {
        using var credential = await AgentCredential.EnrollAsync(channel, caCertificate, joinToken, cancellationToken).ConfigureAwait(false);
        if (credential.Identity != nodeIdentity)
        {
            throw new InvalidOperationException($"Enrollment returned a certificate for {credential.Identity}, not {nodeIdentity}.");
        }

        return Store(credential.Certificate, JoinTokens.Hash(joinToken));
    }

    /// <summary>Obtains a fresh certificate over a channel presenting the current one, and stores it.</summary>
    public async Task<(X509Certificate2 Certificate, CredentialInfo Info)> RenewAsync(GrpcChannel channel, CredentialInfo current, CancellationToken cancellationToken)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var response = await new Enrollment.EnrollmentClient(channel)
            .RenewAsync(new RenewRequest { CsrPem = AgentCredential.CreateSigningRequest(key) }, cancellationToken: cancellationToken)
            .ConfigureAwait(false);
        using var issued = X509Certificate2.CreateFromPem(response.CertificatePem);
        if (!AgentTrust.IsIssuedByCa(issued, caCertificate, AgentTrust.ClientAuthentication, time) || AgentIdentity.FromCertificate(issued) != nodeIdentity)
        {
            throw new InvalidOperationException($"Renewal returned a certificate that is not a valid {nodeIdentity} certificate from the trusted CA.");
        }

        using var withKey = issued.CopyWithPrivateKey(key);
        return Store(withKey, current.JoinTokenHash);
    }

    /// <summary>When to renew: half way between receiving the certificate and its expiry.</summary>
    public static DateTimeOffset RenewAt(X509Certificate2 certificate, CredentialInfo info)
    {
        var notAfter = new DateTimeOffset(certificate.NotAfter.ToUniversalTime());
        return info.ReceivedAt + ((notAfter - info.ReceivedAt) / 2);
    }

    private (X509Certificate2, CredentialInfo) Store(X509Certificate2 certificate, string joinTokenHash)
    {
        using var key = certificate.GetECDsaPrivateKey() ?? throw new InvalidOperationException("The certificate carries no EC private key.");
        var certificatePem = certificate.ExportCertificatePem();
        var keyPem = key.ExportPkcs8PrivateKeyPem();
        var info = new CredentialInfo(time.GetUtcNow(), joinTokenHash);

        DroneFiles.WriteAtomically(_pemPath, System.Text.Encoding.ASCII.GetBytes(certificatePem + "\n" + keyPem + "\n"));
        DroneFiles.WriteAtomically(_infoPath, JsonSerializer.SerializeToUtf8Bytes(info, DroneStateJsonContext.Default.CredentialInfo));
        return (X509Certificate2.CreateFromPem(certificatePem, keyPem), info);
    }
}
