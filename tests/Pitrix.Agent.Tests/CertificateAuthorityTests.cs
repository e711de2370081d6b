using System.Net;
using System.Security.Cryptography;
using System.Text;
using Pitrix.Core.Security;
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
    public void LoadOrCreate_WithProtector_KeyEncryptedOnDiskAndLoadsAgain()
    {
        var path = _directory.Combine("pki");
        var protector = new XorProtector();
        string thumbprint;
        using (var created = CertificateAuthority.LoadOrCreate(path, _time, protector))
        {
            thumbprint = created.Certificate.Thumbprint;
        }

        var stored = File.ReadAllText(Path.Combine(path, CertificateAuthority.KeyFileName));
        using var reloaded = CertificateAuthority.LoadOrCreate(path, _time, protector);

        Assert.True(CertificateAuthority.IsProtectedKey(stored));
        Assert.DoesNotContain("PRIVATE KEY", stored);
        Assert.Equal(thumbprint, reloaded.Certificate.Thumbprint);
        Assert.Contains("encrypted", Assert.Throws<InvalidOperationException>(() => CertificateAuthority.LoadOrCreate(path, _time)).Message);
        Assert.Contains("key ring", Assert.Throws<InvalidOperationException>(() => CertificateAuthority.LoadOrCreate(path, _time, new XorProtector(0x33))).Message);
    }

    [Fact]
    public void LoadOrCreate_PlaintextKeyLoadedWithProtector_EncryptedInPlace()
    {
        var path = _directory.Combine("pki");
        string thumbprint;
        using (var plaintext = CertificateAuthority.LoadOrCreate(path, _time))
        {
            thumbprint = plaintext.Certificate.Thumbprint;
        }

        using var migrated = CertificateAuthority.LoadOrCreate(path, _time, new XorProtector());

        var keyPath = Path.Combine(path, CertificateAuthority.KeyFileName);
        Assert.Equal(thumbprint, migrated.Certificate.Thumbprint);
        Assert.True(CertificateAuthority.IsProtectedKey(File.ReadAllText(keyPath)));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(keyPath));
        Assert.Equal(["ca.crt", "ca.key"], Directory.GetFiles(path).Select(Path.GetFileName).Order());
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

/// <summary>A reversible stand-in for the server's data-protection key ring; another mask is another key ring.</summary>
internal sealed class XorProtector(byte mask = 0x5A) : ISecretProtector
{
    public string Protect(string plaintext) => Convert.ToBase64String([mask, .. Encoding.UTF8.GetBytes(plaintext).Select(b => (byte)(b ^ mask))]);

    public string Unprotect(string ciphertext)
    {
        var bytes = Convert.FromBase64String(ciphertext);
        if (bytes[0] != mask)
        {
            throw new CryptographicException("Not protected by this key ring.");
        }

        return Encoding.UTF8.GetString(bytes[1..].Select(b => (byte)(b ^ mask)).ToArray());
    }
}
