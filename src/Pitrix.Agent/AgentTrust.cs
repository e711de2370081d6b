using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Grpc.Net.Client;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;

namespace Pitrix.Agent;

/// <summary>Whether an agent listener demands a client certificate.</summary>
public enum AgentClientCertificates
{
    /// <summary>Every connection must present a certificate issued by our CA: the agent channels.</summary>
    Require,

    /// <summary>
    /// A certificate is optional, but one that is presented must be ours: the enrollment listener,
    /// where new agents have none yet and enrolled ones renew with theirs.
    /// </summary>
    Allow,
}

/// <summary>
/// Mutual TLS of the agent network on both ends: Kestrel listeners that validate client certificates
/// against our CA only, and gRPC channels that present a client certificate and accept only a server
/// certificate from our CA. The system trust store plays no part in either direction.
/// </summary>
public static class AgentTrust
{
    /// <summary>The TLS client authentication extended key usage.</summary>
    public static readonly Oid ClientAuthentication = new("1.3.6.1.5.5.7.3.2", "Client Authentication");

    /// <summary>The TLS server authentication extended key usage.</summary>
    public static readonly Oid ServerAuthentication = new("1.3.6.1.5.5.7.3.1", "Server Authentication");

    /// <summary>
    /// Configures an endpoint for the agent network: TLS 1.2+ with <paramref name="serverCertificate"/>,
    /// and client certificates validated against <paramref name="caCertificate"/> and nothing else;
    /// a client certificate must also name exactly one agent.
    /// </summary>
    public static ListenOptions UseAgentTls(
        this ListenOptions listenOptions,
        X509Certificate2 serverCertificate,
        X509Certificate2 caCertificate,
        AgentClientCertificates clientCertificates,
        TimeProvider? time = null) =>
        listenOptions.UseRenewableAgentTls(() => serverCertificate, caCertificate, clientCertificates, time);

    /// <summary>
    /// Like <see cref="UseAgentTls(ListenOptions, X509Certificate2, X509Certificate2, AgentClientCertificates, TimeProvider?)"/>,
    /// with the server certificate read for each new connection: a frontgate serves its drones with its own
    /// renewed certificate without restarting the listener.
    /// </summary>
    public static ListenOptions UseRenewableAgentTls(
        this ListenOptions listenOptions,
        Func<X509Certificate2> serverCertificate,
        X509Certificate2 caCertificate,
        AgentClientCertificates clientCertificates,
        TimeProvider? time = null)
    {
        var clock = time ?? TimeProvider.System;
        listenOptions.Protocols = HttpProtocols.Http2;
        return listenOptions.UseHttps(new HttpsConnectionAdapterOptions
        {
            ServerCertificateSelector = (_, _) => serverCertificate(),
            ClientCertificateMode = clientCertificates == AgentClientCertificates.Require
                ? ClientCertificateMode.RequireCertificate
                : ClientCertificateMode.AllowCertificate,
            CheckCertificateRevocation = false,
            // The platform's verdict (third argument) is against the system store; ours replaces it.
            ClientCertificateValidation = (certificate, _, _) =>
                IsIssuedByCa(certificate, caCertificate, ClientAuthentication, clock)
                && AgentIdentity.FromCertificate(certificate) is not null,
        });
    }

    /// <summary>
    /// A handler for gRPC channels to an agent-network server: presents <paramref name="clientCertificate"/>
    /// (which must hold its private key) when given, and accepts only a server certificate issued by
    /// <paramref name="caCertificate"/> for the host dialed.
    /// </summary>
    public static SocketsHttpHandler CreateHandler(X509Certificate2 caCertificate, X509Certificate2? clientCertificate = null, TimeProvider? time = null)
    {
        var clock = time ?? TimeProvider.System;
        var handler = new SocketsHttpHandler
        {
            EnableMultipleHttp2Connections = true,
            PooledConnectionIdleTimeout = Timeout.InfiniteTimeSpan,
            KeepAlivePingDelay = TimeSpan.FromSeconds(30),
            KeepAlivePingTimeout = TimeSpan.FromSeconds(15),
        };
        handler.SslOptions.RemoteCertificateValidationCallback = (_, certificate, _, errors) =>
            (errors & SslPolicyErrors.RemoteCertificateNameMismatch) == 0
            && (errors & SslPolicyErrors.RemoteCertificateNotAvailable) == 0
            && certificate is X509Certificate2 server
            && IsIssuedByCa(server, caCertificate, ServerAuthentication, clock);
        if (clientCertificate is not null)
        {
            if (!clientCertificate.HasPrivateKey)
            {
                throw new ArgumentException("The client certificate must carry its private key.", nameof(clientCertificate));
            }

            // A certificate context is sent whatever CA names the server lists, so selection cannot
            // silently drop it.
            handler.SslOptions.ClientCertificateContext = SslStreamCertificateContext.Create(clientCertificate, additionalCertificates: null, offline: true);
        }

        return handler;
    }

    /// <summary>
    /// A handler for gRPC channels to a server known by its agent identity rather than its host name (a
    /// drone dialing its frontgate by private IP): the server certificate must be issued by
    /// <paramref name="caCertificate"/> and name exactly <paramref name="expectedServer"/>; the host name
    /// dialed plays no part.
    /// </summary>
    public static SocketsHttpHandler CreateHandler(X509Certificate2 caCertificate, X509Certificate2? clientCertificate, AgentIdentity expectedServer, TimeProvider? time = null)
    {
        var clock = time ?? TimeProvider.System;
        var handler = CreateHandler(caCertificate, clientCertificate, clock);
        handler.SslOptions.RemoteCertificateValidationCallback = (_, certificate, _, errors) =>
            (errors & SslPolicyErrors.RemoteCertificateNotAvailable) == 0
            && certificate is X509Certificate2 server
            && IsIssuedByCa(server, caCertificate, ServerAuthentication, clock)
            && AgentIdentity.FromCertificate(server) == expectedServer;
        return handler;
    }

    /// <summary>A gRPC channel to a server checked by identity; see <see cref="CreateHandler(X509Certificate2, X509Certificate2?, AgentIdentity, TimeProvider?)"/>.</summary>
    public static GrpcChannel CreateChannel(Uri address, X509Certificate2 caCertificate, X509Certificate2? clientCertificate, AgentIdentity expectedServer, TimeProvider? time = null) =>
        GrpcChannel.ForAddress(address, new GrpcChannelOptions
        {
            HttpHandler = CreateHandler(caCertificate, clientCertificate, expectedServer, time),
            DisposeHttpClient = true,
        });

    /// <summary>A gRPC channel to an agent-network server; see <see cref="CreateHandler(X509Certificate2, X509Certificate2?, TimeProvider?)"/>.</summary>
    public static GrpcChannel CreateChannel(Uri address, X509Certificate2 caCertificate, X509Certificate2? clientCertificate = null, TimeProvider? time = null) =>
        GrpcChannel.ForAddress(address, new GrpcChannelOptions
        {
            HttpHandler = CreateHandler(caCertificate, clientCertificate, time),
            DisposeHttpClient = true,
        });

    /// <summary>
    /// Whether <paramref name="certificate"/> chains to <paramref name="caCertificate"/> alone, is valid
    /// now and carries the <paramref name="usage"/> extended key usage.
    /// </summary>
    public static bool IsIssuedByCa(X509Certificate2 certificate, X509Certificate2 caCertificate, Oid usage, TimeProvider time)
    {
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(caCertificate);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.VerificationTime = time.GetUtcNow().UtcDateTime;
        chain.ChainPolicy.DisableCertificateDownloads = true;
        chain.ChainPolicy.ApplicationPolicy.Add(usage);
        if (!chain.Build(certificate))
        {
            return false;
        }

        // Direct issuance only: the CA signs leaves, never intermediates.
        return chain.ChainElements.Count == 2
            && chain.ChainElements[1].Certificate.RawDataMemory.Span.SequenceEqual(caCertificate.RawDataMemory.Span);
    }
}
