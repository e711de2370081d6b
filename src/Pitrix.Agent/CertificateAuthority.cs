using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Pitrix.Core;
using Pitrix.Core.Security;

namespace Pitrix.Agent;

/// <summary>
/// The server's own certificate authority for the agent network: an EC P-256 key created once and
/// kept in a directory (<c>ca.key</c>, file mode 0600, never sent anywhere; encrypted with an
/// <see cref="ISecretProtector"/> when one is given, as the server does) with its self-signed
/// certificate (<c>ca.crt</c>). It issues short-lived client certificates from agents' signing
/// requests and server certificates for Pilot and frontgates. Trust in the agent network means
/// "chains to this CA", never the system store.
/// </summary>
public sealed class CertificateAuthority : IDisposable
{
    /// <summary>File name of the CA certificate in its directory.</summary>
    public const string CertificateFileName = "ca.crt";

    /// <summary>File name of the CA private key in its directory.</summary>
    public const string KeyFileName = "ca.key";

    // The first line of a key file holding an encrypted key; the ciphertext follows on the next line.
    private const string ProtectedKeyHeader = "pitrix-protected-key v1";

    private const UnixFileMode OwnerOnlyFile = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private const UnixFileMode OwnerOnlyDirectory = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
    private const UnixFileMode GroupOrOther = UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.GroupExecute
        | UnixFileMode.OtherRead | UnixFileMode.OtherWrite | UnixFileMode.OtherExecute;

    // Agents' clocks may lag the server's a little; a certificate valid only from "now" would be
    // refused by a node whose clock is a few seconds behind.
    private static readonly TimeSpan ClockSkew = TimeSpan.FromMinutes(5);
    private static readonly TimeSpan CaLifetime = TimeSpan.FromDays(3650);

    private readonly ECDsa _key;
    private readonly TimeProvider _time;

    private CertificateAuthority(X509Certificate2 certificate, ECDsa key, TimeProvider time)
    {
        Certificate = certificate;
        _key = key;
        _time = time;
    }

    /// <summary>The CA certificate (public part only): the one trust anchor of the agent network.</summary>
    public X509Certificate2 Certificate { get; }

    /// <summary>The CA certificate in PEM, as handed to agents with their join token.</summary>
    public string CertificatePem => Certificate.ExportCertificatePem();

    /// <summary>
    /// Loads the CA from <paramref name="directory"/>, or creates it there when the directory holds
    /// none. Creation is atomic (written to a sibling directory, then renamed), so two processes
    /// starting together end up with the same CA. Refuses a key file that group or others may read.
    /// </summary>
    public static CertificateAuthority LoadOrCreate(string directory, TimeProvider time, string commonName = "Pitrix agent CA") =>
        LoadOrCreate(directory, time, keyProtector: null, commonName);

    /// <summary>
    /// Like <see cref="LoadOrCreate(string, TimeProvider, string)"/>, but the key file holds the key
    /// encrypted by <paramref name="keyProtector"/> (whose key ring lives elsewhere), so a copy of the
    /// directory alone does not reveal it. A plaintext key left by an earlier version is encrypted in
    /// place when loaded. With a null protector the key is kept as plaintext PEM, and an encrypted key
    /// is refused with a message saying so.
    /// </summary>
    public static CertificateAuthority LoadOrCreate(string directory, TimeProvider time, ISecretProtector? keyProtector, string commonName = "Pitrix agent CA")
    {
        var fullPath = Path.GetFullPath(directory);
        if (!File.Exists(Path.Combine(fullPath, KeyFileName)))
        {
            Create(fullPath, time, commonName, keyProtector);
        }

        return Load(fullPath, time, keyProtector);
    }

    /// <summary>Whether a key file's contents are a key encrypted by an <see cref="ISecretProtector"/> rather than plaintext PEM.</summary>
    public static bool IsProtectedKey(string keyFileContents) => keyFileContents.StartsWith(ProtectedKeyHeader, StringComparison.Ordinal);

    /// <summary>
    /// Issues a client certificate for <paramref name="identity"/> to the key in a PKCS#10 request.
    /// A frontgate's certificate is also good for server authentication: it serves its drones with it,
    /// and they check it by identity (<see cref="AgentTrust.CreateHandler(X509Certificate2, X509Certificate2?, AgentIdentity, TimeProvider?)"/>).
    /// The request's subject and extensions are ignored: the identity is the one the caller vouches
    /// for (the join token's), so an agent cannot ask for someone else's name.
    /// </summary>
    public Result<X509Certificate2> IssueClientCertificate(string csrPem, AgentIdentity identity, TimeSpan lifetime)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(lifetime, TimeSpan.Zero);
        var parsed = ParseSigningRequest(csrPem);
        if (!parsed.IsSuccess)
        {
            return parsed.Error!;
        }

        var csr = parsed.Value!;
        var request = new CertificateRequest(SubjectFor(identity), csr.PublicKey, HashAlgorithmName.SHA256);
        AddLeafExtensions(request, identity, clientAuth: true, dnsNames: [], addresses: []);
        return Sign(request, lifetime);
    }

    /// <summary>
    /// Checks a PKCS#10 request without issuing anything: well-formed, signed by the key it carries,
    /// and that key strong enough. Returns the error <see cref="IssueClientCertificate"/> would return.
    /// </summary>
    public static Error? CheckSigningRequest(string csrPem) => ParseSigningRequest(csrPem).Error;

    /// <summary>
    /// Issues a server certificate (with a fresh private key that stays in memory) for Pilot's or a
    /// frontgate's listener, naming the host names and addresses agents dial.
    /// </summary>
    public X509Certificate2 IssueServerCertificate(AgentIdentity identity, IEnumerable<string> dnsNames, IEnumerable<IPAddress> addresses, TimeSpan lifetime)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(lifetime, TimeSpan.Zero);
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(SubjectFor(identity), key, HashAlgorithmName.SHA256);
        AddLeafExtensions(request, identity, clientAuth: false, dnsNames, addresses);
        using var certificate = Sign(request, lifetime).Value!;
        return certificate.CopyWithPrivateKey(key);
    }

    public void Dispose()
    {
        _key.Dispose();
        Certificate.Dispose();
    }

    private static void Create(string directory, TimeProvider time, string commonName, ISecretProtector? keyProtector)
    {
        var parent = Path.GetDirectoryName(directory) ?? throw new ArgumentException("The CA directory needs a parent directory.", nameof(directory));
        Directory.CreateDirectory(parent);
        var staging = Path.Combine(parent, $".{Path.GetFileName(directory)}.{Guid.NewGuid():N}.tmp");
        CreateOwnerOnlyDirectory(staging);
        try
        {
            using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            var request = new CertificateRequest(new X500DistinguishedName($"CN={commonName}"), key, HashAlgorithmName.SHA256);
            request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, true, 0, true));
            request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
            request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
            var now = time.GetUtcNow();
            using var certificate = request.CreateSelfSigned(now - ClockSkew, now + CaLifetime);

            WriteOwnerOnly(Path.Combine(staging, KeyFileName), KeyFileContents(key, keyProtector));
            File.WriteAllText(Path.Combine(staging, CertificateFileName), certificate.ExportCertificatePem());

            if (Directory.Exists(directory) && !Directory.EnumerateFileSystemEntries(directory).Any())
            {
                Directory.Delete(directory);
            }

            Directory.Move(staging, directory);
        }
        catch (IOException) when (File.Exists(Path.Combine(directory, KeyFileName)))
        {
            // Another process created the CA first; theirs is loaded.
        }
        finally
        {
            if (Directory.Exists(staging))
            {
                Directory.Delete(staging, recursive: true);
            }
        }
    }

    private static CertificateAuthority Load(string directory, TimeProvider time, ISecretProtector? keyProtector)
    {
        var keyPath = Path.Combine(directory, KeyFileName);
        if (!OperatingSystem.IsWindows() && (File.GetUnixFileMode(keyPath) & GroupOrOther) != 0)
        {
            throw new InvalidOperationException($"The CA key '{keyPath}' may be read or written by other users; restrict it to its owner (chmod 600).");
        }

        var certificate = X509Certificate2.CreateFromPem(File.ReadAllText(Path.Combine(directory, CertificateFileName)));
        var key = ECDsa.Create();
        try
        {
            var stored = File.ReadAllText(keyPath);
            var isProtected = IsProtectedKey(stored);
            if (isProtected && keyProtector is null)
            {
                throw new InvalidOperationException($"The CA key '{keyPath}' is encrypted; it can only be loaded with the key ring that encrypted it (the server's data directory).");
            }

            key.ImportFromPem(isProtected ? UnprotectKey(stored, keyProtector!, keyPath) : stored);
            using var publicKey = certificate.GetECDsaPublicKey()
                ?? throw new InvalidOperationException($"The CA certificate in '{directory}' has no EC key.");
            if (!publicKey.ExportSubjectPublicKeyInfo().AsSpan().SequenceEqual(key.ExportSubjectPublicKeyInfo()))
            {
                throw new InvalidOperationException($"The CA key and certificate in '{directory}' do not belong together.");
            }
        }
        catch
        {
            key.Dispose();
            certificate.Dispose();
            throw;
        }

        if (keyProtector is not null && !IsProtectedKey(File.ReadAllText(keyPath)))
        {
            // A key written before the server encrypted it: replace the file atomically with the encrypted form.
            var replacement = Path.Combine(directory, $".{KeyFileName}.{Guid.NewGuid():N}.tmp");
            WriteOwnerOnly(replacement, KeyFileContents(key, keyProtector));
            File.Move(replacement, keyPath, overwrite: true);
        }

        return new CertificateAuthority(certificate, key, time);
    }

    private static string KeyFileContents(ECDsa key, ISecretProtector? keyProtector) =>
        keyProtector is null
            ? key.ExportPkcs8PrivateKeyPem()
            : ProtectedKeyHeader + "\n" + keyProtector.Protect(key.ExportPkcs8PrivateKeyPem()) + "\n";

    private static string UnprotectKey(string stored, ISecretProtector keyProtector, string keyPath)
    {
        try
        {
            return keyProtector.Unprotect(stored[ProtectedKeyHeader.Length..].Trim());
        }
        catch (CryptographicException ex)
        {
            throw new InvalidOperationException($"The CA key '{keyPath}' cannot be decrypted with this server's key ring; it was encrypted by another one.", ex);
        }
    }

    private static void CreateOwnerOnlyDirectory(string path)
    {
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(path);
        }
        else
        {
            Directory.CreateDirectory(path, OwnerOnlyDirectory);
        }
    }

    private static void WriteOwnerOnly(string path, string contents)
    {
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = OwnerOnlyFile;
        }

        using var writer = new StreamWriter(path, options);
        writer.Write(contents);
    }

    private static Result<CertificateRequest> ParseSigningRequest(string csrPem)
    {
        CertificateRequest csr;
        try
        {
            // Loading checks the request's signature, which proves the requester holds the key.
            csr = CertificateRequest.LoadSigningRequestPem(csrPem, HashAlgorithmName.SHA256);
        }
        catch (Exception ex) when (ex is CryptographicException or ArgumentException)
        {
            return CsrError("The certificate signing request is not a valid, signed PKCS#10 request in PEM.");
        }

        if (!IsStrongKey(csr.PublicKey))
        {
            return CsrError("The certificate signing request's key must be EC P-256 or stronger, or RSA of at least 3072 bits.");
        }

        return csr;
    }

    private static X500DistinguishedName SubjectFor(AgentIdentity identity)
    {
        var builder = new X500DistinguishedNameBuilder();
        builder.AddCommonName(identity.Id);
        builder.AddOrganizationalUnitName(identity.Kind.ToString().ToLowerInvariant());
        return builder.Build();
    }

    private static bool IsStrongKey(PublicKey key)
    {
        using var ec = key.GetECDsaPublicKey();
        if (ec is not null)
        {
            return ec.KeySize >= 256;
        }

        using var rsa = key.GetRSAPublicKey();
        return rsa is not null && rsa.KeySize >= 3072;
    }

    private static Error CsrError(string message) => new(ErrorKind.Validation, AgentErrorCodes.CsrInvalid, message);

    private void AddLeafExtensions(CertificateRequest request, AgentIdentity identity, bool clientAuth, IEnumerable<string> dnsNames, IEnumerable<IPAddress> addresses)
    {
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        // A frontgate's one certificate also serves its drones' listener, checked there by identity.
        OidCollection usages = clientAuth && identity.Kind == AgentKind.Frontgate
            ? [AgentTrust.ClientAuthentication, AgentTrust.ServerAuthentication]
            : [clientAuth ? AgentTrust.ClientAuthentication : AgentTrust.ServerAuthentication];
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(usages, false));
        var names = new SubjectAlternativeNameBuilder();
        names.AddUri(new Uri(identity.Uri));
        foreach (var dnsName in dnsNames)
        {
            names.AddDnsName(dnsName);
        }

        foreach (var address in addresses)
        {
            names.AddIpAddress(address);
        }

        request.CertificateExtensions.Add(names.Build(critical: false));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(Certificate, includeKeyIdentifier: true, includeIssuerAndSerial: false));
    }

    private Result<X509Certificate2> Sign(CertificateRequest request, TimeSpan lifetime)
    {
        var now = _time.GetUtcNow();
        var notAfter = now + lifetime;
        if (notAfter > Certificate.NotAfter)
        {
            notAfter = Certificate.NotAfter;
        }

        var serial = new byte[16];
        RandomNumberGenerator.Fill(serial);
        serial[0] &= 0x7F;
        return request.Create(Certificate.SubjectName, X509SignatureGenerator.CreateForECDsa(_key), now - ClockSkew, notAfter, serial);
    }
}
