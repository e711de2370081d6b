using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Grpc.Core;
using Pitrix.Agent.Protocol.V1;
using Xunit;

namespace Pitrix.Agent.Tests;

public sealed class EnrollmentTests : IAsyncLifetime
{
    private readonly string _directory = Directory.CreateTempSubdirectory("pitrix-agent-").FullName;
    private readonly ManualTimeProvider _time = new();
    private AgentTestServer _server = null!;

    public async Task InitializeAsync() => _server = await AgentTestServer.StartAsync(Path.Combine(_directory, "pki"), _time);

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        Directory.Delete(_directory, recursive: true);
    }

    [Fact]
    public async Task Enroll_ValidToken_CertificateNamesTheTokensNodeNotTheCsrSubject()
    {
        var token = await _server.JoinTokens.IssueAsync(AgentIdentity.Node("nd-1"), TimeSpan.FromMinutes(10), CancellationToken.None);
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var csr = new CertificateRequest("CN=nd-someone-else", key, HashAlgorithmName.SHA256).CreateSigningRequestPem();
        using var channel = _server.EnrollmentChannel();

        var response = await new Enrollment.EnrollmentClient(channel).EnrollAsync(new EnrollRequest { JoinToken = token.Token, CsrPem = csr });

        using var certificate = X509Certificate2.CreateFromPem(response.CertificatePem);
        Assert.Equal("pitrix://node/nd-1", response.Identity);
        Assert.Equal(AgentIdentity.Node("nd-1"), AgentIdentity.FromCertificate(certificate));
        Assert.Equal("nd-1", certificate.GetNameInfo(X509NameType.SimpleName, forIssuer: false));
        Assert.True(AgentTrust.IsIssuedByCa(certificate, _server.Ca.Certificate, AgentTrust.ClientAuthentication, _time));
        Assert.Equal(_server.Ca.CertificatePem, response.CaPem);
        using var publicKey = certificate.GetECDsaPublicKey()!;
        Assert.Equal(key.ExportSubjectPublicKeyInfo(), publicKey.ExportSubjectPublicKeyInfo());
        Assert.InRange(certificate.NotAfter.ToUniversalTime(), _time.GetUtcNow().UtcDateTime.AddHours(23), _time.GetUtcNow().UtcDateTime.AddHours(24).AddSeconds(1));
    }

    [Fact]
    public async Task Enroll_SameTokenTwice_SecondRefusedAsUsed()
    {
        var token = await _server.JoinTokens.IssueAsync(AgentIdentity.Node("nd-1"), TimeSpan.FromMinutes(10), CancellationToken.None);
        using var channel = _server.EnrollmentChannel();
        using var first = await AgentCredential.EnrollAsync(channel, _server.Ca.Certificate, token.Token, CancellationToken.None);

        var refused = await Assert.ThrowsAsync<RpcException>(() => AgentCredential.EnrollAsync(channel, _server.Ca.Certificate, token.Token, CancellationToken.None));

        Assert.Equal(StatusCode.PermissionDenied, refused.StatusCode);
        Assert.Equal(AgentErrorCodes.JoinTokenUsed, AgentRpc.ErrorCode(refused));
    }

    [Fact]
    public async Task Enroll_ExpiredToken_RefusedAsExpired()
    {
        var token = await _server.JoinTokens.IssueAsync(AgentIdentity.Node("nd-1"), TimeSpan.FromMinutes(10), CancellationToken.None);
        _time.Advance(TimeSpan.FromMinutes(10));
        using var channel = _server.EnrollmentChannel();

        var refused = await Assert.ThrowsAsync<RpcException>(() => AgentCredential.EnrollAsync(channel, _server.Ca.Certificate, token.Token, CancellationToken.None));

        Assert.Equal(StatusCode.PermissionDenied, refused.StatusCode);
        Assert.Equal(AgentErrorCodes.JoinTokenExpired, AgentRpc.ErrorCode(refused));
    }

    [Fact]
    public async Task Enroll_UnknownToken_RefusedAsInvalid()
    {
        using var channel = _server.EnrollmentChannel();

        var refused = await Assert.ThrowsAsync<RpcException>(() => AgentCredential.EnrollAsync(channel, _server.Ca.Certificate, "pjt_never-issued", CancellationToken.None));

        Assert.Equal(AgentErrorCodes.JoinTokenInvalid, AgentRpc.ErrorCode(refused));
    }

    [Fact]
    public async Task Enroll_MalformedCsr_RefusedWithoutBurningTheToken()
    {
        var token = await _server.JoinTokens.IssueAsync(AgentIdentity.Node("nd-1"), TimeSpan.FromMinutes(10), CancellationToken.None);
        using var channel = _server.EnrollmentChannel();

        var refused = await Assert.ThrowsAsync<RpcException>(() => new Enrollment.EnrollmentClient(channel)
            .EnrollAsync(new EnrollRequest { JoinToken = token.Token, CsrPem = "-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----" }).ResponseAsync);
        using var credential = await AgentCredential.EnrollAsync(channel, _server.Ca.Certificate, token.Token, CancellationToken.None);

        Assert.Equal(StatusCode.InvalidArgument, refused.StatusCode);
        Assert.Equal(AgentErrorCodes.CsrInvalid, AgentRpc.ErrorCode(refused));
        Assert.Equal(AgentIdentity.Node("nd-1"), credential.Identity);
    }

    [Fact]
    public async Task Enroll_WeakRsaKey_RefusedAsCsrInvalid()
    {
        var token = await _server.JoinTokens.IssueAsync(AgentIdentity.Node("nd-1"), TimeSpan.FromMinutes(10), CancellationToken.None);
        using var rsa = RSA.Create(1024);
        var csr = new CertificateRequest("CN=x", rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1).CreateSigningRequestPem();
        using var channel = _server.EnrollmentChannel();

        var refused = await Assert.ThrowsAsync<RpcException>(() => new Enrollment.EnrollmentClient(channel)
            .EnrollAsync(new EnrollRequest { JoinToken = token.Token, CsrPem = csr }).ResponseAsync);

        Assert.Equal(AgentErrorCodes.CsrInvalid, AgentRpc.ErrorCode(refused));
    }

    [Fact]
    public async Task Renew_WithCurrentCertificate_IssuesNewCertificateForSameIdentity()
    {
        using var credential = await _server.EnrollAsync(AgentIdentity.Frontgate("fg-1"));
        using var channel = _server.EnrollmentChannel(credential.Certificate);

        using var renewed = await credential.RenewAsync(channel, CancellationToken.None);

        Assert.Equal(AgentIdentity.Frontgate("fg-1"), renewed.Identity);
        Assert.NotEqual(credential.Certificate.SerialNumber, renewed.Certificate.SerialNumber);
    }

    [Fact]
    public async Task Renew_WithoutCertificate_Unauthenticated()
    {
        using var channel = _server.EnrollmentChannel();
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);

        var refused = await Assert.ThrowsAsync<RpcException>(() => new Enrollment.EnrollmentClient(channel)
            .RenewAsync(new RenewRequest { CsrPem = AgentCredential.CreateSigningRequest(key) }).ResponseAsync);

        Assert.Equal(StatusCode.Unauthenticated, refused.StatusCode);
        Assert.Equal(AgentErrorCodes.Unauthenticated, AgentRpc.ErrorCode(refused));
    }
}
