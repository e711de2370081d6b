using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Grpc.Core;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Pitrix.Agent;
using Pitrix.Core.Agents;
using Pitrix.Frontgate.Drones;
using Pitrix.Frontgate.Identity;
using Pitrix.Frontgate.Metadata;
using Pitrix.Frontgate.Pilot;

namespace Pitrix.Frontgate;

/// <summary>What a <see cref="FrontgateHost"/> starts from.</summary>
public sealed record FrontgateHostSettings
{
    /// <summary>The frontgate's user data: its id, join token, CA, Pilot's address and its listen address.</summary>
    public required AgentBootstrap Bootstrap { get; init; }

    /// <summary>Where the frontgate keeps its certificate, metadata and report outbox; created when missing.</summary>
    public required string DataDirectory { get; init; }

    /// <summary>Configuration holding the <see cref="FrontgateOptions.SectionName"/> section; none means all defaults.</summary>
    public IConfiguration? Configuration { get; init; }

    /// <summary>Applied after <see cref="Configuration"/>: tests set short delays here.</summary>
    public Action<FrontgateOptions>? Configure { get; init; }

    public TimeProvider? Time { get; init; }

    /// <summary>
    /// The network namespace (a path such as <c>/run/netns/NAME</c>) to listen for drones in, while Pilot is
    /// dialed from the namespace the frontgate runs in: a frontgate bridging a private network of namespaces.
    /// Null: listen where the frontgate runs.
    /// </summary>
    public string? ListenNetworkNamespace { get; init; }

    /// <summary>Replaces the default logging (one line per message on stdout).</summary>
    public Action<ILoggingBuilder>? ConfigureLogging { get; init; }
}

/// <summary>A frontgate start-up failure with a stable code, for an operator to act on.</summary>
public sealed class FrontgateStartupException : Exception
{
    /// <summary>The bootstrap file is missing a field or holds a bad value.</summary>
    public const string BootstrapInvalid = "frontgate.bootstrap_invalid";

    /// <summary>Pilot refused the enrollment (a join token that is unknown, expired or already used).</summary>
    public const string EnrollmentRefused = "frontgate.enrollment_refused";

    public FrontgateStartupException()
        : this(BootstrapInvalid, "The frontgate could not start.")
    {
    }

    public FrontgateStartupException(string message)
        : this(BootstrapInvalid, message)
    {
    }

    public FrontgateStartupException(string message, Exception innerException)
        : base(message, innerException) => Code = BootstrapInvalid;

    public FrontgateStartupException(string code, string message, Exception? innerException = null)
        : base(message, innerException) => Code = code;

    public string Code { get; }
}

/// <summary>
/// One running frontgate, in-process: it enrolls with Pilot (or reuses the certificate in its data
/// directory), opens its metadata store, serves drones on the bootstrap's listen address (HTTP/2, mutual
/// TLS with its own certificate) and keeps its stream to Pilot. <c>pitrix-frontgate</c> is a thin
/// <c>Program</c> around it; tests start it directly.
/// </summary>
public sealed class FrontgateHost : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ListenOptions _droneListener;
    private bool _stopped;

    private FrontgateHost(WebApplication app, ListenOptions droneListener)
    {
        _app = app;
        _droneListener = droneListener;
    }

    /// <summary>The address drones dial, as bound (the real port when the bootstrap asked for port 0).</summary>
    public IPEndPoint DroneEndPoint => _droneListener.IPEndPoint!;

    /// <summary><see cref="DroneEndPoint"/> as an https URL.</summary>
    public Uri DroneAddress => new($"https://{DroneEndPoint}");

    public AgentIdentity Identity => Credentials.Identity;

    public FrontgateCredentials Credentials => _app.Services.GetRequiredService<FrontgateCredentials>();

    public PilotLink Pilot => _app.Services.GetRequiredService<PilotLink>();

    public DroneRegistry Drones => _app.Services.GetRequiredService<DroneRegistry>();

    public MetadataMirror Metadata => _app.Services.GetRequiredService<MetadataMirror>();

    public IMetadataStore MetadataStore => _app.Services.GetRequiredService<IMetadataStore>();

    public ReportOutbox Outbox => _app.Services.GetRequiredService<ReportOutbox>();

    /// <summary>
    /// Starts a frontgate. Waits for its certificate: on first boot Pilot must be reachable to enroll (the
    /// attempt is repeated with backoff while Pilot is unreachable; a refused token throws
    /// <see cref="FrontgateStartupException"/>). Everything else (Pilot, etcd) is reached in the background.
    /// </summary>
    public static async Task<FrontgateHost> StartAsync(FrontgateHostSettings settings, CancellationToken cancellationToken)
    {
        var bootstrap = settings.Bootstrap;
        var (identity, pilotAddress, listenEndPoint, caCertificate) = ReadBootstrap(bootstrap);
        var time = settings.Time ?? TimeProvider.System;
        var dataDirectory = Path.GetFullPath(settings.DataDirectory);
        CreatePrivateDirectory(dataDirectory);

        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ApplicationName = "pitrix-frontgate", ContentRootPath = dataDirectory });
        builder.Configuration.Sources.Clear();
        if (settings.Configuration is not null)
        {
            builder.Configuration.AddConfiguration(settings.Configuration);
        }

        builder.Logging.ClearProviders();
        if (settings.ConfigureLogging is null)
        {
            builder.Logging.AddSimpleConsole(console =>
            {
                console.SingleLine = true;
                console.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ ";
                console.UseUtcTimestamp = true;
            });
        }
        else
        {
            settings.ConfigureLogging(builder.Logging);
        }

        var options = builder.Services.AddOptions<FrontgateOptions>().BindConfiguration(FrontgateOptions.SectionName).ValidateOnStart();
        if (settings.Configure is not null)
        {
            options.Configure(settings.Configure);
        }

        var credentialSlot = new CredentialSlot();
        var services = builder.Services;
        services.Configure<HostOptions>(host => host.ShutdownTimeout = TimeSpan.FromSeconds(5));
        services.AddSingleton<IValidateOptions<FrontgateOptions>, FrontgateOptionsValidator>();
        services.AddSingleton(time);
        services.AddSingleton(_ => credentialSlot.Value ?? throw new InvalidOperationException("The frontgate has no certificate yet."));
        services.AddSingleton<IMetadataStore>(sp => OpenStore(sp, dataDirectory));
        services.AddSingleton(_ => new MetadataMirror());
        services.AddSingleton<DroneRegistry>();
        services.AddSingleton(_ => ReportOutbox.Open(Path.Combine(dataDirectory, "outbox")));
        services.AddSingleton<FrontgateRequestHandler>();
        services.AddSingleton(sp => ActivatorUtilities.CreateInstance<PilotLink>(sp, pilotAddress));
        services.AddHostedService(sp => sp.GetRequiredService<PilotLink>());
        services.AddHostedService<MetadataMirrorPump>();
        services.AddHostedService(sp => ActivatorUtilities.CreateInstance<CredentialRenewer>(sp, pilotAddress));
        services.AddGrpc();

        if (settings.ListenNetworkNamespace is { } listenNamespace)
        {
            if (!OperatingSystem.IsLinux() || !File.Exists(listenNamespace))
            {
                throw new FrontgateStartupException(FrontgateStartupException.BootstrapInvalid, $"The network namespace to listen in, {listenNamespace}, does not exist.");
            }

            builder.WebHost.UseSockets(sockets => sockets.CreateBoundListenSocket = endPoint => OperatingSystem.IsLinux()
                ? NetworkNamespace.Run(listenNamespace, () => SocketTransportOptions.CreateDefaultBoundListenSocket(endPoint))
                : throw new PlatformNotSupportedException("Network namespaces are Linux's."));
        }

        ListenOptions? droneListener = null;
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(listenEndPoint, listen =>
        {
            droneListener = listen;
            listen.UseRenewableAgentTls(() => credentialSlot.Value!.Current, caCertificate, AgentClientCertificates.Allow, time);
        }));

        var app = builder.Build();
        app.MapGrpcService<FrontgateService>();
        app.MapGrpcService<EnrollmentRelayService>();
        try
        {
            // Validates the options before anything is dialed.
            _ = app.Services.GetRequiredService<IOptions<FrontgateOptions>>().Value;
            var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger<FrontgateHost>();
            credentialSlot.Value = await EnrollAsync(
                Path.Combine(dataDirectory, "identity"), identity, caCertificate, pilotAddress, bootstrap.JoinToken, time, app.Services.GetRequiredService<IOptions<FrontgateOptions>>().Value, logger, cancellationToken);
            await app.StartAsync(cancellationToken);
        }
        catch
        {
            await app.DisposeAsync();
            throw;
        }

        return new FrontgateHost(app, droneListener!);
    }

    /// <summary>Completes when the host stops (for example on SIGTERM).</summary>
    public Task WaitForShutdownAsync(CancellationToken cancellationToken) => _app.WaitForShutdownAsync(cancellationToken);

    /// <summary>Stops serving drones and closes the Pilot stream and the store.</summary>
    public async Task StopAsync()
    {
        if (_stopped)
        {
            return;
        }

        _stopped = true;
        await _app.StopAsync();
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        await _app.DisposeAsync();
    }

    private static (AgentIdentity Identity, Uri PilotAddress, IPEndPoint ListenEndPoint, X509Certificate2 Ca) ReadBootstrap(AgentBootstrap bootstrap)
    {
        if (bootstrap.Agent != AgentKinds.Frontgate)
        {
            throw Invalid($"The bootstrap is for a '{bootstrap.Agent}' agent, not a frontgate.");
        }

        if (!AgentIdentity.TryParse($"{AgentIdentity.Scheme}://frontgate/{bootstrap.Id}", out var identity))
        {
            throw Invalid($"The bootstrap id '{bootstrap.Id}' is not a valid agent id.");
        }

        if (!Uri.TryCreate(bootstrap.PilotAddress, UriKind.Absolute, out var pilotAddress) || pilotAddress.Scheme != Uri.UriSchemeHttps)
        {
            throw Invalid("The bootstrap's pilot_address must be an https URL, like https://127.0.0.1:9114.");
        }

        // ":9111" means this machine's private address, which a cloud knows only once the instance exists
        // (the local runtime hands it over as PITRIX_NODE_IP).
        var listen = bootstrap.ListenAddress ?? "";
        if (listen.StartsWith(':') && Environment.GetEnvironmentVariable("PITRIX_NODE_IP") is { Length: > 0 } nodeIp)
        {
            listen = nodeIp + listen;
        }

        if (!IPEndPoint.TryParse(listen, out var listenEndPoint))
        {
            throw Invalid("The bootstrap's listen_address must be an IP address and port, like 127.64.0.1:9111, or :9111 with PITRIX_NODE_IP set.");
        }

        if (string.IsNullOrWhiteSpace(bootstrap.JoinToken))
        {
            throw Invalid("The bootstrap has no join_token.");
        }

        try
        {
            return (identity, pilotAddress, listenEndPoint, X509Certificate2.CreateFromPem(bootstrap.CaPem));
        }
        catch (CryptographicException exception)
        {
            throw new FrontgateStartupException(FrontgateStartupException.BootstrapInvalid, "The bootstrap's ca_pem is not a PEM certificate.", exception);
        }

        static FrontgateStartupException Invalid(string message) => new(FrontgateStartupException.BootstrapInvalid, message);
    }

    private static async Task<FrontgateCredentials> EnrollAsync(
        string directory,
        AgentIdentity identity,
        X509Certificate2 caCertificate,
        Uri pilotAddress,
        string joinToken,
        TimeProvider time,
        FrontgateOptions options,
        ILogger logger,
        CancellationToken cancellationToken)
    {
        var failures = 0;
        while (true)
        {
            try
            {
                var credentials = await FrontgateCredentials.LoadOrEnrollAsync(directory, identity, caCertificate, pilotAddress, joinToken, time, cancellationToken);
                var how = credentials.WasReused ? "reused from the data directory" : "enrolled with Pilot";
                var notAfter = credentials.Current.NotAfter.ToUniversalTime();
                FrontgateHostLog.Identity(logger, identity.Uri, how, notAfter);
                return credentials;
            }
            catch (RpcException exception) when (exception.StatusCode is StatusCode.PermissionDenied or StatusCode.InvalidArgument or StatusCode.Unauthenticated)
            {
                throw new FrontgateStartupException(
                    FrontgateStartupException.EnrollmentRefused,
                    $"Pilot refused the enrollment of {identity}: {AgentRpc.ErrorCode(exception) ?? exception.StatusCode.ToString()} {exception.Status.Detail}",
                    exception);
            }
            catch (RpcException exception)
            {
                failures++;
                var delay = TimeSpan.FromMilliseconds(Math.Min(options.ReconnectMaxDelay.TotalMilliseconds, options.ReconnectMinDelay.TotalMilliseconds * Math.Pow(2, Math.Min(failures, 20))));
                FrontgateHostLog.EnrollFailed(logger, pilotAddress, exception.StatusCode.ToString(), delay.TotalMilliseconds);
                await Task.Delay(delay, time, cancellationToken);
            }
        }
    }

    private static IMetadataStore OpenStore(IServiceProvider services, string dataDirectory)
    {
        var options = services.GetRequiredService<IOptions<FrontgateOptions>>().Value.Metadata;
        if (options.Backend == MetadataBackends.Etcd)
        {
            return ActivatorUtilities.CreateInstance<EtcdMetadataStore>(services, options.Etcd);
        }

        var directory = Path.Combine(dataDirectory, "metadata");
        CreatePrivateDirectory(directory);
        return EmbeddedMetadataStore.Open(Path.Combine(directory, "metadata.db"));
    }

    private static void CreatePrivateDirectory(string path)
    {
        Directory.CreateDirectory(path);
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
    }

    /// <summary>The certificate, known only after enrollment, for services built before it.</summary>
    private sealed class CredentialSlot
    {
        public FrontgateCredentials? Value { get; set; }
    }
}

internal static partial class FrontgateHostLog
{
    [LoggerMessage(Level = LogLevel.Information, Message = "Frontgate {Identity}: certificate {How}, valid until {NotAfter:u}")]
    public static partial void Identity(ILogger logger, string identity, string how, DateTime notAfter);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Enrolling with Pilot at {PilotAddress} failed ({Status}); trying again in {DelayMs:0} ms")]
    public static partial void EnrollFailed(ILogger logger, Uri pilotAddress, string status, double delayMs);
}
