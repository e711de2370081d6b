using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Pitrix.Catalog.Fetching;
using Xunit;

namespace Pitrix.Catalog.Tests;

/// <summary>A real HTTP and HTTPS server on loopback with the failure modes a repository can have.</summary>
public sealed class RepoServerFixture : IAsyncLifetime
{
    private WebApplication? _app;

    public Uri Http { get; private set; } = null!;

    public Uri Https { get; private set; } = null!;

    public string CertificatePem { get; private set; } = "";

    public async Task InitializeAsync()
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=localhost", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var san = new SubjectAlternativeNameBuilder();
        san.AddDnsName("localhost");
        request.CertificateExtensions.Add(san.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        using var created = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        var certificate = X509CertificateLoader.LoadPkcs12(created.Export(X509ContentType.Pfx), null);
        CertificatePem = created.ExportCertificatePem();

        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.WebHost.ConfigureKestrel(o =>
        {
            o.Listen(IPAddress.Loopback, 0);
            o.Listen(IPAddress.Loopback, 0, listen => listen.UseHttps(certificate));
        });
        _app = builder.Build();
        _app.MapGet("/index.yaml", (HttpContext http) =>
        {
            if (http.Request.Headers.IfNoneMatch.ToString() == "\"v1\"")
            {
                return Results.StatusCode(304);
            }

            http.Response.Headers.ETag = "\"v1\"";
            return Results.Text("apiVersion: v1\nentries: {}\n", "application/yaml");
        });
        _app.MapGet("/basic", (HttpContext http) =>
            http.Request.Headers.Authorization.ToString() == "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes("reader:s3cret")) ? Results.Text("ok") : Results.StatusCode(401));
        _app.MapGet("/bearer", (HttpContext http) => http.Request.Headers.Authorization.ToString() == "Bearer tok-1" ? Results.Text("ok") : Results.StatusCode(401));
        _app.MapGet("/boom", () => Results.StatusCode(500));
        _app.MapGet("/slow", async () =>
        {
            await Task.Delay(TimeSpan.FromSeconds(5));
            return Results.Text("late");
        });
        _app.MapGet("/huge", () => Results.Bytes(new byte[2 * 1024 * 1024]));
        _app.MapGet("/huge-chunked", async (HttpContext http) =>
        {
            var chunk = new byte[64 * 1024];
            for (var i = 0; i < 40; i++)
            {
                await http.Response.Body.WriteAsync(chunk);
                await http.Response.Body.FlushAsync();
            }
        });
        _app.MapGet("/to-metadata", () => Results.Redirect("http://169.254.169.254/latest/meta-data/"));
        await _app.StartAsync();
        var addresses = _app.Urls.ToList();
        Http = new Uri(addresses.First(a => a.StartsWith("http:", StringComparison.Ordinal)));
        Https = new Uri(addresses.First(a => a.StartsWith("https:", StringComparison.Ordinal)).Replace("127.0.0.1", "localhost", StringComparison.Ordinal));
    }

    public async Task DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.DisposeAsync();
        }
    }
}

public sealed class SafeFetcherTests(RepoServerFixture server) : IClassFixture<RepoServerFixture>
{
    private static SafeFetcher Fetcher(bool allowLoopback = true, long maxBytes = 1024 * 1024, double timeoutSeconds = 10) =>
        new(Options.Create(new FetchOptions { AllowLoopback = allowLoopback, MaxBytes = maxBytes, Timeout = TimeSpan.FromSeconds(timeoutSeconds) }));

    private Uri At(string path) => new(server.Http, path);

    [Fact]
    public async Task Get_ReturnsBodyDigestAndETag_ThenNotModified()
    {
        var first = await Fetcher().GetAsync(At("/index.yaml"), null, null, null, CancellationToken.None);
        Assert.False(first.NotModified);
        Assert.Equal("\"v1\"", first.ETag);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(first.Body)), first.Sha256);

        var second = await Fetcher().GetAsync(At("/index.yaml"), null, first.ETag, null, CancellationToken.None);
        Assert.True(second.NotModified);
    }

    [Fact]
    public async Task Credentials_BasicAndBearer_AreSent_AndWrongOnesGive401()
    {
        Assert.False((await Fetcher().GetAsync(At("/basic"), new FetchCredentials { Username = "reader", Password = "s3cret" }, null, null, CancellationToken.None)).NotModified);
        Assert.False((await Fetcher().GetAsync(At("/bearer"), new FetchCredentials { BearerToken = "tok-1" }, null, null, CancellationToken.None)).NotModified);
        var denied = await Assert.ThrowsAsync<FetchException>(() => Fetcher().GetAsync(At("/basic"), new FetchCredentials { Username = "reader", Password = "wrong" }, null, null, CancellationToken.None));
        Assert.Equal("fetch.http_status", denied.Code);
        Assert.Equal(401, denied.HttpStatus);
        Assert.False(denied.IsRetryable);
        Assert.Contains("credentials", denied.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("/missing", "fetch.http_status", false)]
    [InlineData("/boom", "fetch.http_status", true)]
    [InlineData("/huge", "fetch.too_large", false)]
    [InlineData("/huge-chunked", "fetch.too_large", false)]
    [InlineData("/to-metadata", "fetch.address_denied", false)]
    public async Task Get_FailureModes_HaveCodes(string path, string code, bool retryable)
    {
        var ex = await Assert.ThrowsAsync<FetchException>(() => Fetcher().GetAsync(At(path), null, null, null, CancellationToken.None));
        Assert.Equal(code, ex.Code);
        Assert.Equal(retryable, ex.IsRetryable);
    }

    [Fact]
    public async Task Get_SlowServer_TimesOut()
    {
        var ex = await Assert.ThrowsAsync<FetchException>(() => Fetcher(timeoutSeconds: 1).GetAsync(At("/slow"), null, null, null, CancellationToken.None));
        Assert.Equal("fetch.timeout", ex.Code);
        Assert.True(ex.IsRetryable);
    }

    [Fact]
    public async Task Get_LoopbackRefusedByDefault_AndClosedPortUnreachable()
    {
        var refused = await Assert.ThrowsAsync<FetchException>(() => Fetcher(allowLoopback: false).GetAsync(At("/index.yaml"), null, null, null, CancellationToken.None));
        Assert.Equal("fetch.address_denied", refused.Code);
        Assert.Contains("loopback", refused.Message, StringComparison.Ordinal);

        var closed = await Assert.ThrowsAsync<FetchException>(() => Fetcher().GetAsync(new Uri("http://127.0.0.1:1/index.yaml"), null, null, null, CancellationToken.None));
        Assert.Equal("fetch.unreachable", closed.Code);

        var scheme = await Assert.ThrowsAsync<FetchException>(() => Fetcher().GetAsync(new Uri("ftp://127.0.0.1/x"), null, null, null, CancellationToken.None));
        Assert.Equal("fetch.scheme_unsupported", scheme.Code);
    }

    [Fact]
    public async Task Https_PrivateCa_RefusedWithoutBundle_AcceptedWithIt()
    {
        var url = new Uri(server.Https, "/index.yaml");
        var untrusted = await Assert.ThrowsAsync<FetchException>(() => Fetcher().GetAsync(url, null, null, null, CancellationToken.None));
        Assert.Equal("fetch.tls", untrusted.Code);

        var trusted = await Fetcher().GetAsync(url, new FetchCredentials { CaBundlePem = server.CertificatePem }, null, null, CancellationToken.None);
        Assert.Equal("\"v1\"", trusted.ETag);

        var otherCa = await Assert.ThrowsAsync<FetchException>(() => Fetcher().GetAsync(url, new FetchCredentials { CaBundlePem = OtherCertificatePem() }, null, null, CancellationToken.None));
        Assert.Equal("fetch.tls", otherCa.Code);
    }

    [Theory]
    [InlineData("169.254.169.254", "link-local")]
    [InlineData("fe80::1", "link-local")]
    [InlineData("127.0.0.1", "loopback")]
    [InlineData("::1", "loopback")]
    [InlineData("::ffff:127.0.0.1", "loopback")]
    [InlineData("100.100.100.200", "metadata")]
    [InlineData("0.0.0.0", "unspecified")]
    public void Denial_DangerousAddresses_AreRefusedByDefault(string address, string reason)
    {
        Assert.Contains(reason, SafeFetcher.Denial(IPAddress.Parse(address), new FetchOptions()), StringComparison.Ordinal);
        Assert.Null(SafeFetcher.Denial(IPAddress.Parse("10.1.2.3"), new FetchOptions()));
        Assert.Null(SafeFetcher.Denial(IPAddress.Parse("169.254.169.254"), new FetchOptions { AllowLinkLocal = true }));
    }

    private static string OtherCertificatePem()
    {
        using var key = ECDsa.Create();
        using var other = new CertificateRequest("CN=other", key, HashAlgorithmName.SHA256).CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        return other.ExportCertificatePem();
    }
}
