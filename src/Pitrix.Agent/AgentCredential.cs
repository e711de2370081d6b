using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Grpc.Net.Client;
using Pitrix.Agent.Protocol.V1;

namespace Pitrix.Agent;

/// <summary>
/// What an enrolled agent holds: its client certificate with the private key it generated itself,
/// the CA certificate it trusts, and the identity the certificate names.
/// </summary>
public sealed class AgentCredential : IDisposable
{
    private AgentCredential(X509Certificate2 certificate, X509Certificate2 caCertificate, AgentIdentity identity)
    {
        Certificate = certificate;
        CaCertificate = caCertificate;
        Identity = identity;
    }

    /// <summary>The client certificate, with its private key.</summary>
    public X509Certificate2 Certificate { get; }

    public X509Certificate2 CaCertificate { get; }

    public AgentIdentity Identity { get; }

    /// <summary>
    /// Enrolls over <paramref name="enrollmentChannel"/> (see <see cref="AgentTrust.CreateChannel(Uri, X509Certificate2, X509Certificate2?, TimeProvider?)"/>,
    /// without a client certificate): generates an EC P-256 key here, sends only its signing request
    /// with the join token, and checks that the certificate returned matches the key and chains to
    /// the CA the channel already trusts.
    /// </summary>
    public static async Task<AgentCredential> EnrollAsync(GrpcChannel enrollmentChannel, X509Certificate2 trustedCa, string joinToken, CancellationToken cancellationToken)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var client = new Enrollment.EnrollmentClient(enrollmentChannel);
        var response = await client.EnrollAsync(new EnrollRequest { JoinToken = joinToken, CsrPem = CreateSigningRequest(key) }, cancellationToken: cancellationToken);
        return FromResponse(response, key, trustedCa);
    }

    /// <summary>Obtains a fresh certificate for the same identity over a channel that presents this credential.</summary>
    public async Task<AgentCredential> RenewAsync(GrpcChannel channel, CancellationToken cancellationToken)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var client = new Enrollment.EnrollmentClient(channel);
        var response = await client.RenewAsync(new RenewRequest { CsrPem = CreateSigningRequest(key) }, cancellationToken: cancellationToken);
        return FromResponse(response, key, CaCertificate);
    }

    /// <summary>A PKCS#10 request for <paramref name="key"/>; the subject is a placeholder the CA replaces.</summary>
    public static string CreateSigningRequest(ECDsa key) =>
        new CertificateRequest("CN=pitrix-agent", key, HashAlgorithmName.SHA256).CreateSigningRequestPem();

    public void Dispose()
    {
        Certificate.Dispose();
        CaCertificate.Dispose();
    }

    private static AgentCredential FromResponse(EnrollResponse response, ECDsa key, X509Certificate2 trustedCa)
    {
        using var issued = X509Certificate2.CreateFromPem(response.CertificatePem);
        if (!AgentTrust.IsIssuedByCa(issued, trustedCa, AgentTrust.ClientAuthentication, TimeProvider.System))
        {
            throw new InvalidOperationException("The enrollment server returned a certificate that does not chain to the trusted CA.");
        }

        var identity = AgentIdentity.FromCertificate(issued)
            ?? throw new InvalidOperationException("The enrollment server returned a certificate that names no agent.");
        var certificate = issued.CopyWithPrivateKey(key);
        var ca = X509CertificateLoader.LoadCertificate(trustedCa.RawData);
        return new AgentCredential(certificate, ca, identity);
    }
}
