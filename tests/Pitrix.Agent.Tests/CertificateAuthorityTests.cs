using System.Net;
using System.Security.Cryptography;
using Xunit;

namespace Pitrix.Agent.Tests;

public sealed class CertificateAuthorityTests : IDisposable
{
    private readonly TempDirectory _directory = new();
    private readonly ManualTimeProvider _time = new();

    public void Dispose() => _directory.Dispose();

    [Fact]
    public void LoadOrCreate_Restarted_LoadsTheSameCaWithOwnerOnlyKey()
    {
        var path = _directory.Combine("pki");
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        string thumbprint;
        System.Security.Cryptography.X509Certificates.X509Certificate2 issuedBefore;
        using (var first = CertificateAuthority.LoadOrCreate(path, _time))
        {
            thumbprint = first.Certificate.Thumbprint;
            issuedBefore = first.IssueClientCertificate(AgentCredential.CreateSigningRequest(key), AgentIdentity.Node("nd-1"), TimeSpan.FromHours(1)).Value!;
        }

        using var restarted = CertificateAuthority.LoadOrCreate(path, _time);
        using var issuedAfter = restarted.IssueClientCertificate(AgentCredential.CreateSigningRequest(key), AgentIdentity.Node("nd-2"), TimeSpan.FromHours(1)).Value!;

        Assert.Equal(thumbprint, restarted.Certificate.Thumbprint);
        Assert.False(restarted.Certificate.HasPrivateKey);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(path, CertificateAuthority.KeyFileName)));
        Assert.True(AgentTrust.IsIssuedByCa(issuedBefore, restarted.Certificate, AgentTrust.ClientAuthentication, _time));
        Assert.True(AgentTrust.IsIssuedByCa(issuedAfter, restarted.Certificate, AgentTrust.ClientAuthentication, _time));
        Assert.Equal(["ca.crt", "ca.key"], Directory.GetFiles(path).Select(Path.GetFileName).Order());
        Assert.Single(Directory.GetFileSystemEntries(_directory.Path));
        issuedBefore.Dispose();
    }

    [Fact]
    public void LoadOrCreate_KeyReadableByOthers_Refused()
    {
        var path = _directory.Combine("pki");
        CertificateAuthority.LoadOrCreate(path, _time).Dispose();
        File.SetUnixFileMode(Path.Combine(path, CertificateAuthority.KeyFileName), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.OtherRead);

        var refused = Assert.Throws<InvalidOperationException>(() => CertificateAuthority.LoadOrCreate(path, _time));

        Assert.Contains("chmod 600", refused.Message);
    }

    [Fact]
    public void IsIssuedByCa_ClientCertificateUsedAsServer_False()
    {
        using var ca = CertificateAuthority.LoadOrCreate(_directory.Combine("pki"), _time);
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var client = ca.IssueClientCertificate(AgentCredential.CreateSigningRequest(key), AgentIdentity.Node("nd-1"), TimeSpan.FromHours(1)).Value!;
        using var server = ca.IssueServerCertificate(AgentIdentity.Pilot("p"), ["localhost"], [IPAddress.Loopback], TimeSpan.FromHours(1));

        Assert.False(AgentTrust.IsIssuedByCa(client, ca.Certificate, AgentTrust.ServerAuthentication, _time));
        Assert.False(AgentTrust.IsIssuedByCa(server, ca.Certificate, AgentTrust.ClientAuthentication, _time));
        Assert.True(AgentTrust.IsIssuedByCa(server, ca.Certificate, AgentTrust.ServerAuthentication, _time));
    }

    [Fact]
    public void IsIssuedByCa_AfterCertificateLifetime_False()
    {
        using var ca = CertificateAuthority.LoadOrCreate(_directory.Combine("pki"), _time);
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var client = ca.IssueClientCertificate(AgentCredential.CreateSigningRequest(key), AgentIdentity.Node("nd-1"), TimeSpan.FromHours(1)).Value!;

        _time.Advance(TimeSpan.FromHours(2));

        Assert.False(AgentTrust.IsIssuedByCa(client, ca.Certificate, AgentTrust.ClientAuthentication, _time));
    }
}
