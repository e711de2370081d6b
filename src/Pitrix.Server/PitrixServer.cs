using Microsoft.Extensions.Options;
using Pitrix.Api;
using Pitrix.AppFormats.VmCluster;
using Pitrix.Catalog;
using Pitrix.Core.Hosting;
using Pitrix.Engine;
using Pitrix.Packages.Helm;
using Pitrix.Persistence;
using Pitrix.Pilot;
using Pitrix.AppFormats.Helm;
using Pitrix.Providers.Kubernetes;
using Pitrix.Providers.Local;
using Pitrix.Web;

namespace Pitrix.Server;

/// <summary>Composes the Pitrix server from its modules according to its roles.</summary>
public static class PitrixServer
{
    public const string DefaultUrl = "http://127.0.0.1:9100";

    private static readonly Dictionary<string, string> SwitchMappings = new(StringComparer.Ordinal)
    {
        ["--roles"] = "Server:Roles",
        ["--data-dir"] = "Server:DataDirectory",
        ["--database"] = "Database:Provider",
        ["--connection-string"] = "Database:ConnectionString",
    };

    public static async Task<int> RunAsync(string[] args, Action<WebApplicationBuilder>? configure = null)
    {
        var migrateOnly = args.Length > 0 && args[0] == "migrate";
        if (args.Length > 0 && args[0] is "--help" or "-h" or "help")
        {
            Console.WriteLine(Usage);
            return 0;
        }

        WebApplication app;
        try
        {
            app = Build(migrateOnly ? args[1..] : args, configure);
            await InitializeAsync(app, Console.Out, createAdmin: !migrateOnly);
        }
        catch (OptionsValidationException ex)
        {
            await Console.Error.WriteLineAsync("pitrix-server: invalid configuration: " + string.Join(" ", ex.Failures));
            return 2;
        }

        if (migrateOnly)
        {
            Console.WriteLine("Database is up to date.");
            return 0;
        }

        await app.RunAsync();
        return 0;
    }

    /// <summary>
    /// Applies migrations and creates the first admin, whose password comes from <c>PITRIX_ADMIN_PASSWORD</c>
    /// (configuration key <c>ADMIN_PASSWORD</c>) or is generated and printed to <paramref name="output"/>.
    /// </summary>
    public static Task InitializeAsync(WebApplication app, TextWriter output, bool createAdmin = true) =>
        DatabaseInitializer.InitializeAsync(app.Services, createAdmin ? app.Configuration["ADMIN_PASSWORD"] ?? "" : null, output, CancellationToken.None);

    /// <summary>Builds the server without starting it; tests use this to run the real pipeline on a free port.</summary>
    public static WebApplication Build(string[] args, Action<WebApplicationBuilder>? configure = null)
    {
        // The application name is the server's even when another process hosts it (tests): the web console's
        // static assets are found through manifests named after it beside the server's assembly.
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = args, ApplicationName = typeof(PitrixServer).Assembly.GetName().Name });
        builder.WebHost.UseStaticWebAssets();
        builder.Configuration.AddEnvironmentVariables("PITRIX_");
        builder.Configuration.AddCommandLine(args, SwitchMappings);
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning)
            .AddFilter("Microsoft.EntityFrameworkCore", LogLevel.Warning)
            .AddFilter("Microsoft.AspNetCore.DataProtection", LogLevel.Error)
            .AddFilter("Microsoft.Hosting.Lifetime", LogLevel.Information);
        configure?.Invoke(builder);

        var serverOptions = builder.Configuration.GetSection(ServerOptions.SectionName).Get<ServerOptions>() ?? new ServerOptions();
        var rolesValidation = new ServerOptionsValidator().Validate(null, serverOptions);
        if (rolesValidation.Failed)
        {
            throw new OptionsValidationException(ServerOptions.SectionName, typeof(ServerOptions), rolesValidation.Failures);
        }

        var dataDirectory = new DataDirectory(Path.GetFullPath(serverOptions.DataDirectory));
        // The data directory holds the key ring that decrypts every stored secret: only its owner may enter.
        foreach (var directory in new[] { dataDirectory.Path, dataDirectory.KeysPath })
        {
            Directory.CreateDirectory(directory);
            if (!OperatingSystem.IsWindows())
            {
                File.SetUnixFileMode(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            }
        }

        var databaseOptions = builder.Configuration.GetSection(DatabaseOptions.SectionName).Get<DatabaseOptions>() ?? new DatabaseOptions();
        if (databaseOptions.Provider == DatabaseProviders.Sqlite && string.IsNullOrWhiteSpace(databaseOptions.ConnectionString))
        {
            databaseOptions.ConnectionString = $"Data Source={Path.Combine(dataDirectory.Path, "pitrix.db")}";
        }

        var validation = new DatabaseOptionsValidator().Validate(null, databaseOptions);
        if (validation.Failed)
        {
            throw new OptionsValidationException(DatabaseOptions.SectionName, typeof(DatabaseOptions), validation.Failures);
        }

        if (string.IsNullOrEmpty(builder.Configuration["urls"]) && string.IsNullOrEmpty(builder.Configuration["http_ports"]))
        {
            builder.WebHost.UseUrls(DefaultUrl);
        }

        var services = builder.Services;
        services.AddOptions<ServerOptions>().BindConfiguration(ServerOptions.SectionName).ValidateOnStart();
        services.AddSingleton<IValidateOptions<ServerOptions>, ServerOptionsValidator>();
        services.AddSingleton(Options.Create(databaseOptions));
        services.AddSingleton(dataDirectory);
        services.AddSingleton(TimeProvider.System);
        services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(30));
        var maxBody = builder.Configuration.GetSection(ApiOptions.SectionName).Get<ApiOptions>()?.MaxRequestBodyBytes ?? new ApiOptions().MaxRequestBodyBytes;
        builder.WebHost.ConfigureKestrel(o => o.Limits.MaxRequestBodySize = maxBody);

        services.AddPitrixPersistence(databaseOptions);
        services.AddPitrixApi(dataDirectory);
        if (serverOptions.RoleSet.Contains("api"))
        {
            services.AddPitrixWeb();
        }

        services.AddLocalProvider();
        services.AddKubernetesProvider();
        services.AddHelm();
        services.AddPitrixCatalog(builder.Configuration);
        if (serverOptions.RoleSet.Contains("indexer"))
        {
            services.AddIndexer();
        }

        services.AddClusters(builder.Configuration);
        services.AddVmClusterFormat();
        services.AddHelmFormat();
        if (serverOptions.RoleSet.Contains("engine"))
        {
            services.AddEngine(builder.Configuration);
            services.AddHelmTasks();
            services.AddLocalAgentSupervisor();
        }

        if (serverOptions.RoleSet.Contains("pilot"))
        {
            // Pilot serves frontgates on its own TLS listener (Agent:Pilot:Listen), never on the API's.
            services.AddPilot();
        }

        if (serverOptions.RoleSet.Contains("engine") && serverOptions.RoleSet.Contains("pilot"))
        {
            // VM clusters' tasks reach the agent network through the Pilot in this process.
            services.AddVmClusterTasks();
        }

        var app = builder.Build();
        var roles = app.Services.GetRequiredService<IOptions<ServerOptions>>().Value.RoleSet;
        app.UsePitrixApi(serveApi: roles.Contains("api"));
        if (roles.Contains("api"))
        {
            // The web console is served wherever the API is, and calls it on this server's own address.
            app.MapPitrixWeb();
        }

        var roleList = string.Join(',', roles.Order(StringComparer.Ordinal));
        app.Lifetime.ApplicationStarted.Register(() =>
        {
            var urls = string.Join(", ", app.Urls);
            ServerLog.Started(app.Logger, urls, dataDirectory.Path, databaseOptions.Provider, roleList);
        });
        return app;
    }

    private const string Usage = """
        Usage: pitrix-server [migrate] [options]

          migrate                     apply database migrations and exit
          --urls <url>                listen address (default http://127.0.0.1:9100)
          --data-dir <path>           data directory (default ./.pitrix-data)
          --roles <list>              api,engine,indexer,pilot (default all)
          --database <sqlite|postgres>
          --connection-string <cs>    required for postgres

        Pilot (role pilot) listens for frontgates on its own mutual-TLS port: Agent:Pilot:Listen
        (default 127.0.0.1:9114), told to agents as Agent:Pilot:PublicAddress (default https:// and
        the listen address). Its CA lives in <data dir>/pki (Agent:Pki:CaDirectory), key encrypted.

        Any setting can also come from appsettings.json or PITRIX_<Section>__<Key> environment
        variables, for example PITRIX_Database__Provider=postgres. On first start an 'admin' user is
        created with the password from PITRIX_ADMIN_PASSWORD, or a generated one printed once.
        """;
}

internal static partial class ServerLog
{
    [LoggerMessage(Level = LogLevel.Information, Message = "Pitrix is listening on {Urls} (data directory {DataDirectory}, database {Database}, roles {Roles})")]
    public static partial void Started(ILogger logger, string urls, string dataDirectory, string database, string roles);
}
