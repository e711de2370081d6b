using System.Reflection;
using Pitrix.Core.Agents;
using Pitrix.Drone.Apps;

namespace Pitrix.Drone.Agent;

/// <summary>Settings of a running drone: who it is (its bootstrap), where it keeps its state, and its timings.</summary>
public sealed class DroneOptions
{
    /// <summary>The node's user data: id, join token, CA, frontgate address and id. Required.</summary>
    public required AgentBootstrap Bootstrap { get; init; }

    /// <summary>Where the drone keeps its credential, state, command records and undelivered results. Required.</summary>
    public required string DataDirectory { get; init; }

    /// <summary>The node's filesystem root. Default: <see cref="NodeRoot.System"/> (<c>/</c>).</summary>
    public NodeRoot Root { get; init; } = NodeRoot.System;

    /// <summary>How often a heartbeat goes up the stream. Default: 10 seconds.</summary>
    public TimeSpan HeartbeatInterval { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>How often the node's health is reported when it has not changed. Default: 60 seconds.</summary>
    public TimeSpan HealthReportInterval { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>The first reconnect delay; it doubles after each failure, with jitter. Default: 0.5 seconds.</summary>
    public TimeSpan ReconnectInitialDelay { get; init; } = TimeSpan.FromMilliseconds(500);

    /// <summary>The longest reconnect delay. Default: 30 seconds.</summary>
    public TimeSpan ReconnectMaxDelay { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>The largest message accepted from the frontgate (an app archive travels in one). Default: 64 MiB.</summary>
    public int MaxReceiveMessageBytes { get; init; } = 64 * 1024 * 1024;

    /// <summary>Timeout of a command that names none. Default: 10 minutes.</summary>
    public TimeSpan DefaultCommandTimeout { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>Bytes of each output stream kept in a command result. Default: 16 KiB.</summary>
    public int CommandTailBytes { get; init; } = 16 * 1024;

    /// <summary>How long the config watcher waits after a change for more before rendering. Default: 100 ms.</summary>
    public TimeSpan ConfigDebounce { get; init; } = TimeSpan.FromMilliseconds(100);

    /// <summary>Bounds on app archives. Default: <see cref="AppFilesLimits"/>' defaults.</summary>
    public AppFilesLimits AppFilesLimits { get; init; } = new();

    /// <summary>The version reported in hello and pong. Default: the assembly's informational version.</summary>
    public string Version { get; init; } = DefaultVersion;

    /// <summary>The drone's own assembly version.</summary>
    public static string DefaultVersion { get; } =
        typeof(DroneOptions).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0.0.0";

    /// <summary>What is wrong with the bootstrap for a drone, or null when it is usable.</summary>
    public static string? ValidateBootstrap(AgentBootstrap bootstrap)
    {
        if (bootstrap.Agent != AgentKinds.Node)
        {
            return $"the bootstrap is for a '{bootstrap.Agent}' agent, not '{AgentKinds.Node}'";
        }

        if (string.IsNullOrWhiteSpace(bootstrap.Id) || string.IsNullOrWhiteSpace(bootstrap.JoinToken) || string.IsNullOrWhiteSpace(bootstrap.CaPem))
        {
            return "the bootstrap needs id, join_token and ca_pem";
        }

        if (string.IsNullOrWhiteSpace(bootstrap.FrontgateId))
        {
            return "the bootstrap needs frontgate_id: the drone checks its frontgate's certificate by that identity";
        }

        try
        {
            using var ca = System.Security.Cryptography.X509Certificates.X509Certificate2.CreateFromPem(bootstrap.CaPem);
        }
        catch (System.Security.Cryptography.CryptographicException)
        {
            return "the bootstrap's ca_pem is not a PEM certificate";
        }

        if (!Uri.TryCreate(bootstrap.FrontgateAddress, UriKind.Absolute, out var address) || address.Scheme != Uri.UriSchemeHttps)
        {
            return $"the bootstrap's frontgate_address must be an https:// URI, got '{bootstrap.FrontgateAddress}'";
        }

        return null;
    }
}

/// <summary>
/// The drone's command line: <c>pitrix-drone --bootstrap FILE --data-dir DIR [--root DIR]</c>; the root may also come
/// from the <c>PITRIX_ROOT</c> environment variable, and defaults to <c>/</c>.
/// </summary>
public static class DroneCommandLine
{
    public const string Usage = "usage: pitrix-drone --bootstrap FILE --data-dir DIR [--root DIR]   (root also from PITRIX_ROOT; default /)";

    /// <summary>Parses the arguments and reads the bootstrap file; returns null with a reason when they are unusable.</summary>
    public static DroneOptions? TryParse(IReadOnlyList<string> args, Func<string, string?> environment, out string? error)
    {
        string? bootstrapPath = null, dataDirectory = null, root = environment("PITRIX_ROOT");
        for (var i = 0; i < args.Count; i++)
        {
            var name = args[i];
            var value = i + 1 < args.Count ? args[i + 1] : null;
            if (name.StartsWith("--", StringComparison.Ordinal) && name.Contains('=', StringComparison.Ordinal))
            {
                value = name[(name.IndexOf('=', StringComparison.Ordinal) + 1)..];
                name = name[..name.IndexOf('=', StringComparison.Ordinal)];
            }
            else
            {
                i++;
            }

            if (value is null)
            {
                error = $"{name} needs a value. {Usage}";
                return null;
            }

            switch (name)
            {
                case "--bootstrap":
                    bootstrapPath = value;
                    break;
                case "--data-dir":
                    dataDirectory = value;
                    break;
                case "--root":
                    root = value;
                    break;
                default:
                    error = $"unknown argument '{name}'. {Usage}";
                    return null;
            }
        }

        if (bootstrapPath is null || dataDirectory is null)
        {
            error = Usage;
            return null;
        }

        string text;
        try
        {
            text = File.ReadAllText(bootstrapPath);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            error = $"cannot read the bootstrap file '{bootstrapPath}': {ex.Message}";
            return null;
        }

        var bootstrap = AgentBootstrap.TryParse(text);
        if (bootstrap is null)
        {
            error = $"'{bootstrapPath}' is not an agent bootstrap (JSON with agent, id, join_token, ca_pem, frontgate_address, frontgate_id)";
            return null;
        }

        error = DroneOptions.ValidateBootstrap(bootstrap);
        if (error is not null)
        {
            error = $"{bootstrapPath}: {error}";
            return null;
        }

        return new DroneOptions
        {
            Bootstrap = bootstrap,
            DataDirectory = Path.GetFullPath(dataDirectory),
            Root = new NodeRoot(string.IsNullOrEmpty(root) ? "/" : root),
        };
    }
}
