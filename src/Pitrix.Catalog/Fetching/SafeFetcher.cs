using System.Net;
using System.Net.Http.Headers;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Microsoft.Extensions.Options;

namespace Pitrix.Catalog.Fetching;

/// <summary>
/// The one way Pitrix fetches from URLs it was given: size and time limits, conditional GET, basic or
/// bearer auth, a per-repository CA bundle, and an address policy enforced where the connection is made
/// (after DNS, on every redirect), so a name that resolves to a metadata or loopback address is refused.
/// </summary>
public sealed class SafeFetcher(IOptions<FetchOptions> options)
{
    public async Task<FetchResult> GetAsync(Uri url, FetchCredentials? credentials, string? etag, DateTimeOffset? lastModified, CancellationToken cancellationToken)
    {
        var limits = options.Value;
        if (url.Scheme is not ("http" or "https"))
        {
            throw new FetchException("fetch.scheme_unsupported", $"Only http and https URLs are fetched, not '{url.Scheme}'.");
        }

        using var handler = CreateHandler(limits, credentials);
        using var client = new HttpClient(handler) { Timeout = Timeout.InfiniteTimeSpan };
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        request.Headers.UserAgent.Add(new ProductInfoHeaderValue("Pitrix", "1.0"));
        if (credentials?.BearerToken is { } token)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }
        else if (credentials?.Username is { } user)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:{credentials.Password}")));
        }

        if (etag is not null)
        {
            request.Headers.TryAddWithoutValidation("If-None-Match", etag);
        }

        if (lastModified is { } since)
        {
            request.Headers.IfModifiedSince = since;
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(limits.Timeout);
        try
        {
            using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
            if (response.StatusCode == HttpStatusCode.NotModified)
            {
                return new FetchResult(true, [], etag, lastModified, "");
            }

            if (!response.IsSuccessStatusCode)
            {
                var status = (int)response.StatusCode;
                var hint = status switch
                {
                    401 or 403 => "check the repository's credentials",
                    404 => "check the URL",
                    _ => "the server failed",
                };
                throw new FetchException("fetch.http_status", $"{url} answered {status} {response.ReasonPhrase}: {hint}.", status);
            }

            if (response.Content.Headers.ContentLength is { } length && length > limits.MaxBytes)
            {
                throw new FetchException("fetch.too_large", $"{url} is {length} bytes; the limit is {limits.MaxBytes}.");
            }

            var body = await ReadBoundedAsync(response, limits.MaxBytes, url, timeout.Token);
            return new FetchResult(false, body, response.Headers.ETag?.ToString(), response.Content.Headers.LastModified, Convert.ToHexStringLower(SHA256.HashData(body)));
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new FetchException("fetch.timeout", $"{url} did not answer within {limits.Timeout.TotalSeconds:0} seconds.");
        }
        catch (HttpRequestException ex) when (ex.InnerException is FetchException denied)
        {
            throw denied;
        }
        catch (HttpRequestException ex) when (ex.InnerException is System.Security.Authentication.AuthenticationException || ex.HttpRequestError == HttpRequestError.SecureConnectionError)
        {
            throw new FetchException("fetch.tls", $"TLS with {url.Host} failed: {ex.InnerException?.Message ?? ex.Message}. Add the repository's CA bundle if it uses a private CA.");
        }
        catch (HttpRequestException ex)
        {
            throw new FetchException("fetch.unreachable", $"Cannot reach {url.Host}: {ex.Message}");
        }
    }

    private static async Task<byte[]> ReadBoundedAsync(HttpResponseMessage response, long max, Uri url, CancellationToken cancellationToken)
    {
        await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken);
        using var buffer = new MemoryStream();
        var chunk = new byte[81920];
        int read;
        while ((read = await stream.ReadAsync(chunk, cancellationToken)) > 0)
        {
            if (buffer.Length + read > max)
            {
                throw new FetchException("fetch.too_large", $"{url} sent more than {max} bytes.");
            }

            await buffer.WriteAsync(chunk.AsMemory(0, read), cancellationToken);
        }

        return buffer.ToArray();
    }

    private static SocketsHttpHandler CreateHandler(FetchOptions limits, FetchCredentials? credentials)
    {
        var handler = new SocketsHttpHandler
        {
            AllowAutoRedirect = true,
            MaxAutomaticRedirections = Math.Max(1, limits.MaxRedirects),
            AutomaticDecompression = DecompressionMethods.GZip | DecompressionMethods.Deflate,
            UseProxy = false,
            ConnectTimeout = limits.Timeout,
            ConnectCallback = async (context, cancellationToken) =>
            {
                var addresses = await Dns.GetHostAddressesAsync(context.DnsEndPoint.Host, cancellationToken);
                var allowed = addresses.Where(a => Denial(a, limits) is null).ToArray();
                if (allowed.Length == 0)
                {
                    var reason = addresses.Length == 0 ? "it does not resolve" : Denial(addresses[0], limits);
                    throw new FetchException("fetch.address_denied", $"{context.DnsEndPoint.Host} is refused: {reason}. An admin can allow it with Fetch:AllowLoopback or Fetch:AllowLinkLocal.");
                }

                var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                try
                {
                    await socket.ConnectAsync(allowed, context.DnsEndPoint.Port, cancellationToken);
                    return new NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            },
        };

        if (credentials?.CaBundlePem is { } pem)
        {
            var roots = new X509Certificate2Collection();
            roots.ImportFromPem(pem);
            handler.SslOptions.RemoteCertificateValidationCallback = (_, certificate, _, errors) =>
            {
                if (certificate is null || (errors & SslPolicyErrors.RemoteCertificateNameMismatch) != 0)
                {
                    return false;
                }

                using var chain = new X509Chain();
                chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
                chain.ChainPolicy.CustomTrustStore.AddRange(roots);
                chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
                return chain.Build(new X509Certificate2(certificate));
            };
        }

        return handler;
    }

    /// <summary>Why an address may not be contacted, or null when it may.</summary>
    public static string? Denial(IPAddress address, FetchOptions limits)
    {
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        if (IPAddress.IsLoopback(address))
        {
            return limits.AllowLoopback ? null : "it is a loopback address";
        }

        var bytes = address.GetAddressBytes();
        var linkLocal = address.AddressFamily == AddressFamily.InterNetwork
            ? bytes[0] == 169 && bytes[1] == 254
            : address.IsIPv6LinkLocal;
        if (linkLocal)
        {
            return limits.AllowLinkLocal ? null : "it is a link-local address (cloud metadata services live there)";
        }

        if (address.Equals(IPAddress.Any) || address.Equals(IPAddress.IPv6Any) || (address.AddressFamily == AddressFamily.InterNetwork && bytes[0] == 0))
        {
            return "it is an unspecified address";
        }

        // Alibaba's metadata service sits outside the link-local range.
        return address.ToString() == "100.100.100.200" && !limits.AllowLinkLocal ? "it is a cloud metadata address" : null;
    }
}
