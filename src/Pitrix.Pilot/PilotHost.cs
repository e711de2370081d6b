using System.Net;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Pitrix.Agent;

namespace Pitrix.Pilot;

/// <summary>
/// Pilot's own listener: a second, small Kestrel server inside the server process that serves only
/// the <c>Pilot</c> and <c>Enrollment</c> gRPC services, over TLS with a certificate from the agent CA,
/// validating client certificates against that CA alone. Being a separate server, it shares nothing
/// with the REST API's pipeline: no API endpoint is reachable on it and no gRPC service on the API port.
/// </summary>
internal sealed partial class PilotHost(
    IServiceProvider services,
    IOptions<PilotOptions> options,
    PilotEndpoint endpoint,
    FrontgateRegistry registry,
    TimeProvider time,
    ILogger<PilotHost> logger) : IHostedService, IAsyncDisposable
{
    private const string PilotIdentityId = "pilot";
    private static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(5);

    private WebApplication? _app;
    private X509Certificate2? _serverCertificate;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var settings = options.Value;
        var ca = services.GetRequiredService<CertificateAuthority>();
        var listen = settings.ListenEndPoint;
        var (dnsNames, addresses) = ServerNames(settings, listen);
        _serverCertificate = ca.IssueServerCertificate(AgentIdentity.Pilot(PilotIdentityId), dnsNames, addresses, settings.ServerCertificateLifetime);

        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [], ApplicationName = typeof(PilotHost).Assembly.GetName().Name });
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton(services.GetRequiredService<ILoggerFactory>());
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = StopTimeout);

        // The server's host owns the process lifetime (signals, start-up messages); this one only follows it.
        builder.Services.AddSingleton<IHostLifetime, EmbeddedLifetime>();
        builder.Services.AddGrpc();
        builder.Services.AddSingleton(services.GetRequiredService<PilotService>());
        builder.Services.AddSingleton(services.GetRequiredService<EnrollmentService>());
        ListenOptions? bound = null;
        var certificate = _serverCertificate;
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Listen(listen, listenOptions =>
            {
                bound = listenOptions;
                listenOptions.UseAgentTls(certificate, ca.Certificate, AgentClientCertificates.Allow, time);
            });
        });

        _app = builder.Build();
        _app.MapGrpcService<PilotService>();
        _app.MapGrpcService<EnrollmentService>();
        await _app.StartAsync(cancellationToken);
        endpoint.SetBound(bound!.IPEndPoint!);
        var publicAddress = await endpoint.GetPublicAddressAsync(cancellationToken);
        Log.Listening(logger, endpoint.ListenAddress!, publicAddress);
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        // Streams never end by themselves; closing them lets Kestrel stop at once.
        registry.CloseAll(PilotErrorCodes.ShuttingDown);
        if (_app is not null)
        {
            await _app.StopAsync(cancellationToken);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.DisposeAsync();
        }

        _serverCertificate?.Dispose();
    }

    private static (List<string> DnsNames, List<IPAddress> Addresses) ServerNames(PilotOptions settings, IPEndPoint listen)
    {
        var dnsNames = new List<string> { "localhost" };
        var addresses = new List<IPAddress> { IPAddress.Loopback };
        var names = new List<string>(settings.ServerNames);
        if (!listen.Address.Equals(IPAddress.Any) && !listen.Address.Equals(IPAddress.IPv6Any))
        {
            names.Add(listen.Address.ToString());
        }

        if (!string.IsNullOrWhiteSpace(settings.PublicAddress))
        {
            names.Add(new Uri(settings.PublicAddress).IdnHost);
        }

        foreach (var name in names)
        {
            if (IPAddress.TryParse(name.Trim('[', ']'), out var address))
            {
                if (!addresses.Contains(address))
                {
                    addresses.Add(address);
                }
            }
            else if (!dnsNames.Contains(name, StringComparer.OrdinalIgnoreCase))
            {
                dnsNames.Add(name);
            }
        }

        return (dnsNames, addresses);
    }

    private sealed class EmbeddedLifetime : IHostLifetime
    {
        public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Information, Message = "Pilot is listening on {ListenAddress} for frontgates, which are told to dial {PublicAddress}")]
        public static partial void Listening(ILogger logger, Uri listenAddress, string publicAddress);
    }
}
